"""The data folder: paths cannot escape it, writes leave no temporary files, avatars go whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.storage import Storage


def test_paths_stay_inside_the_data_folder(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "data")
    for bad in ("../secret", "/etc/passwd", "avatars/../../x", ""):
        with pytest.raises(ValueError):
            storage.resolve(bad)
    (tmp_path / "outside.txt").write_text("keep")
    storage.delete("../outside.txt")  # ignored, not followed
    assert (tmp_path / "outside.txt").read_text() == "keep"


def test_atomic_write_and_avatar_removal(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "data")
    first = storage.new_avatar_file(7, "photos", ".jpg")
    second = storage.new_avatar_file(7, "voice", ".wav")
    assert first != storage.new_avatar_file(7, "photos", ".jpg") and first.startswith("avatars/7/photos/")
    storage.write(first, b"one")
    storage.write(first, b"two")  # replaced whole
    storage.write(second, b"wav")
    other = storage.new_avatar_file(8, "photos", ".jpg")
    storage.write(other, b"other")
    assert storage.read(first) == b"two"
    assert sorted(p.name for p in (tmp_path / "data").rglob(".tmp-*")) == []
    storage.delete_avatar(7)
    assert not storage.avatar_dir(7).exists()
    assert storage.read(other) == b"other"
    storage.delete_avatar(7)  # already gone: fine


class FakeSession:
    """Stands in for AsyncSession in the upload helper; `fail_commit` makes the commit raise."""

    def __init__(self, *, fail_commit: bool) -> None:
        self.fail_commit = fail_commit
        self.committed = False

    async def commit(self) -> None:
        if self.fail_commit:
            raise RuntimeError("database went away")
        self.committed = True


@pytest.mark.parametrize("fail_commit", [False, True])
async def test_file_is_removed_when_its_row_cannot_be_committed(tmp_path: Path, fail_commit: bool) -> None:
    from server.domain.media.uploads import store_then_commit

    storage = Storage(tmp_path / "data")
    path = storage.new_avatar_file(1, "photos", ".jpg")
    session = FakeSession(fail_commit=fail_commit)

    async def add_rows() -> str:
        assert storage.read(path) == b"jpeg"  # the file is written before the row is added
        return "row"

    if fail_commit:
        with pytest.raises(RuntimeError):
            await store_then_commit(session, storage, path, b"jpeg", add_rows)  # type: ignore[arg-type]
        assert not storage.resolve(path).exists()
    else:
        assert await store_then_commit(session, storage, path, b"jpeg", add_rows) == "row"  # type: ignore[arg-type]
        assert session.committed and storage.read(path) == b"jpeg"
