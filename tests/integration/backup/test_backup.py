"""Backup and restore on real databases: every row and every file comes back, across SQLite and
MariaDB; damaged archives and non-empty targets are refused before anything is written."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import sqlite3
import tarfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pymysql
import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from server.backup import ArchiveInvalid, Manifest, RestoreRefused, create_backup, restore_backup
from server.backup.cli import backup_command, restore_command
from server.backup.schedule import NightlyBackups, archive_time
from server.db.engine import current_revision, head_revision, make_engine, make_sessionmaker
from server.db.models import (
    ApiToken,
    Avatar,
    AvatarImage,
    Base,
    Conversation,
    GeneratedVideo,
    LoginFailure,
    Memory,
    Message,
    Personality,
    User,
    VideoCall,
    VoiceSample,
)
from server.db.testing import sqlite_url, temporary_database
from server.storage import Storage

MOMENT = datetime(2026, 1, 2, 3, 4, 5, 678901)
MISSING_VOICE = "avatars/1/voice/never-written.wav"


async def populate(url: str, data_dir: Path) -> int:
    """A user with an avatar made of everything, real files through Storage, a call; the newest user
    deleted again. Returns the deleted user's id."""
    storage = Storage(data_dir)
    engine = make_engine(url, poolclass=NullPool)
    try:
        async with make_sessionmaker(engine)() as session:
            ana, ben, gone = (User(email=f"{n}@example.org", password_hash="x" * 60, display_name=n) for n in "abg")
            session.add_all([ana, ben, gone])
            session.add(LoginFailure(key="ip:10.0.0.7", at=MOMENT))
            await session.flush()
            session.add(ApiToken(user_id=ana.id, token_hash="t" * 64, expires_at=MOMENT + timedelta(days=30)))
            avatar = await _avatar(session, storage, ana)
            await _call(session, storage, avatar, ana)
            await session.commit()
            await session.delete(gone)  # the newest user id is gone: it must never be handed out again
            await session.commit()
            gone_id = gone.id
    finally:
        await engine.dispose()
    storage.write("avatars/1/rig/face.npz", os.urandom(5_000))  # a prepared rig: a file without a row
    storage.write("avatars/1/photos/.tmp-half.jpg", b"half")  # never backed up
    storage.write("avatars/1/recordings/call.mp4.part", b"growing")
    return gone_id


async def _avatar(session: AsyncSession, storage: Storage, owner: User) -> Avatar:
    """An avatar with personality, a memory, a photo and a voice sample (plus one whose file is gone)."""
    avatar = Avatar(
        owner=owner,
        name="Grandma Rose 🌹",
        relationship_to_user="grandmother",
        user_name="mi niño",
        consent_statement="I may use her likeness.",
        consent_at=MOMENT,
        backends={"animator": "warp", "nested": {"a": [1, 2.5, None]}},
        voice_profile={"pitch_shift": 1.25},
        personality=Personality(personality="warm", example_phrases=["Ay, mi niño", "加油", "🙂"]),
        memories=[Memory(text="We baked bread on Sundays.")],
    )
    session.add(avatar)
    await session.flush()
    session.add(
        AvatarImage(
            avatar_id=avatar.id,
            path=_stored(storage, avatar.id, "photos", ".jpg", 40_000),
            width=512,
            height=640,
            is_primary=True,
            face_landmarks={"points": [[0.25, 0.5], [1e-3, 2.5]]},
            quality_score=0.87,
            quality={"sharpness": 0.9, "advice": "more light"},
        )
    )
    voice = _stored(storage, avatar.id, "voice", ".wav", 120_000)
    session.add(
        VoiceSample(avatar_id=avatar.id, path=voice, original_name="oma.wav", duration_s=3.5, sample_rate=22050)
    )
    session.add(VoiceSample(avatar_id=avatar.id, path=MISSING_VOICE, duration_s=1.0, sample_rate=16000))
    return avatar


async def _call(session: AsyncSession, storage: Storage, avatar: Avatar, user: User) -> None:
    """A conversation with messages, its video call with a recording, and a rendered reply."""
    conversation = Conversation(
        avatar_id=avatar.id,
        user_id=user.id,
        summary="bread",
        messages=[
            Message(role="user", text="Hola 奶奶", created_at=MOMENT),
            Message(role="avatar", text="Hello, dear.", emotion="happy", flags={"interrupted": True}),
        ],
    )
    session.add(conversation)
    await session.flush()
    session.add(
        VideoCall(
            conversation_id=conversation.id,
            avatar_id=avatar.id,
            user_id=user.id,
            ended_at=MOMENT,
            end_reason="hung up",
            total_exchanges=4,
            recording_path=_stored(storage, avatar.id, "recordings", ".mp4", 300_000),
            user_satisfaction=5,
        )
    )
    render = _stored(storage, avatar.id, "renders", ".zip", 80_000)
    session.add(GeneratedVideo(avatar_id=avatar.id, text_hash="h" * 64, text="Hello.", path=render, duration_s=1.5))


def _stored(storage: Storage, avatar_id: int, folder: str, suffix: str, size: int) -> str:
    relative = storage.new_avatar_file(avatar_id, folder, suffix)
    storage.write(relative, os.urandom(size))
    return relative


async def every_row(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of the models, by primary key."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return {
                table.name: [
                    dict(row._mapping)
                    for row in await connection.execute(select(table).order_by(*table.primary_key.columns))
                ]
                for table in Base.metadata.sorted_tables
            }
    finally:
        await engine.dispose()


def owned_files(data_dir: Path) -> dict[str, bytes]:
    top = data_dir / "avatars"
    return {p.relative_to(data_dir).as_posix(): p.read_bytes() for p in sorted(top.rglob("*")) if p.is_file()}


async def new_user_id(url: str) -> int:
    engine = make_engine(url, poolclass=NullPool)
    try:
        async with make_sessionmaker(engine)() as session:
            user = User(email="new@example.org", password_hash="y" * 60)
            session.add(user)
            await session.commit()
            return user.id
    finally:
        await engine.dispose()


async def tables_of(url: str) -> list[str]:
    def names(connection: Connection) -> list[str]:
        return sorted(inspect(connection).get_table_names())

    engine = make_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(names)
    finally:
        await engine.dispose()


async def round_trip(source: str, target: str, tmp_path: Path) -> Manifest:
    """Populate `source`, back it up, restore into `target`; assert everything came back."""
    source_dir, target_dir = tmp_path / "source-data", tmp_path / "target-data"
    gone_id = await populate(source, source_dir)
    archive = tmp_path / "backup.tar"
    manifest = await create_backup(source, source_dir, archive)

    await restore_backup(archive, target, target_dir)

    before, after = await every_row(source), await every_row(target)
    for name in before:
        assert after[name] == before[name], name
    assert all(before[name] for name in before), "every table should hold a row"
    expected = {path: data for path, data in owned_files(source_dir).items() if not _skipped(path)}
    assert len(expected) == 5  # photo, voice, recording, render, rig
    assert owned_files(target_dir) == expected
    assert await current_revision(target) == manifest.revision == head_revision()
    # The deleted user's id is never handed out again, here as at the source.
    assert await new_user_id(target) == await new_user_id(source) == gone_id + 1
    return manifest


def _skipped(path: str) -> bool:
    return path.endswith(".part") or "/.tmp-" in path


async def test_round_trip_on_the_same_database(migrated_db_url: str, db_url: str, tmp_path: Path) -> None:
    manifest = await round_trip(migrated_db_url, db_url, tmp_path)
    paths = {file.path for file in manifest.files}
    assert "avatars/1/rig/face.npz" in paths  # no row points at it: still backed up
    assert not any(p.endswith(".part") or "/.tmp-" in p for p in paths)
    assert manifest.warnings == [f"{MISSING_VOICE} is referenced by a row but missing from the data dir"]
    assert [table.name for table in manifest.tables] == [table.name for table in Base.metadata.sorted_tables]


@pytest.mark.mysql
@pytest.mark.parametrize("db_backend", ["mysql"], indirect=True)
async def test_sqlite_to_mariadb(db_url: str, tmp_path: Path) -> None:
    async with temporary_database(tmp_path) as source:
        manifest = await round_trip(source, db_url, tmp_path)
    assert manifest.source == "sqlite"


@pytest.mark.mysql
@pytest.mark.parametrize("db_backend", ["mysql"], indirect=True)
async def test_mariadb_to_migrated_sqlite(migrated_db_url: str, tmp_path: Path) -> None:
    async with temporary_database(tmp_path) as target:  # already at head, no rows: also accepted
        manifest = await round_trip(migrated_db_url, target, tmp_path)
    assert manifest.source == "mysql"


@pytest.fixture
async def archive(migrated_db_url: str, tmp_path: Path) -> Path:
    await populate(migrated_db_url, tmp_path / "source-data")
    path = tmp_path / "backup.tar"
    await create_backup(migrated_db_url, tmp_path / "source-data", path)
    return path


def _flip_in_file_entry(path: Path) -> None:
    with tarfile.open(path) as tar:
        member = next(m for m in tar.getmembers() if "/photos/" in m.name)
    with path.open("r+b") as handle:
        handle.seek(member.offset_data + 100)
        byte = handle.read(1)
        handle.seek(-1, io.SEEK_CUR)
        handle.write(bytes([byte[0] ^ 0xFF]))


def _flip_in_table_dump(path: Path) -> None:
    with tarfile.open(path) as tar:
        member = tar.getmember("db/avatars.jsonl")
    data = bytearray(path.read_bytes())
    data[member.offset_data + 2] ^= 0x01
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _without_manifest(path: Path) -> None:
    copy = path.with_suffix(".copy")
    with tarfile.open(path) as tar, tarfile.open(copy, "w") as out:
        for member in tar.getmembers():
            if member.name != "manifest.json":
                out.addfile(member, tar.extractfile(member))
    copy.replace(path)


def _changed_row_count(path: Path) -> None:
    """A manifest edited to match: checksums of the data still agree, the counts do not."""
    copy = path.with_suffix(".copy")
    with tarfile.open(path) as tar, tarfile.open(copy, "w") as out:
        for member in tar.getmembers():
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "manifest.json":
                data = data.replace(b'"rows": 2', b'"rows": 1', 1)
                member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    copy.replace(path)


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (_flip_in_file_entry, "does not match its checksum"),
        (_flip_in_table_dump, "db/avatars.jsonl in the archive does not match its checksum"),
        (_truncate, "damaged or cut short"),
        (_without_manifest, "has no manifest.json"),
        (_changed_row_count, "rows, not 1"),
    ],
)
async def test_a_damaged_archive_is_refused_before_anything_is_written(
    archive: Path, db_url: str, tmp_path: Path, damage: Callable[[Path], None], said: str
) -> None:
    damage(archive)
    target_dir = tmp_path / "target-data"
    with pytest.raises(ArchiveInvalid) as caught:
        await restore_backup(archive, db_url, target_dir)
    assert said in str(caught.value)
    assert await tables_of(db_url) == []  # not even migrated
    assert not target_dir.exists()


async def test_restore_into_a_database_with_rows_is_refused(
    archive: Path, migrated_db_url: str, tmp_path: Path
) -> None:
    before = await every_row(migrated_db_url)
    with pytest.raises(RestoreRefused, match=r"the database already has rows \(.*1 in avatars"):
        await restore_backup(archive, migrated_db_url, tmp_path / "other-data")
    assert await every_row(migrated_db_url) == before
    assert not (tmp_path / "other-data").exists()


async def test_restore_into_a_data_dir_with_avatars_is_refused(archive: Path, db_url: str, tmp_path: Path) -> None:
    source_dir = tmp_path / "source-data"
    before = owned_files(source_dir)
    with pytest.raises(RestoreRefused, match="already holds files"):
        await restore_backup(archive, db_url, source_dir)
    assert owned_files(source_dir) == before
    assert await tables_of(db_url) == []


async def test_a_failure_after_the_rows_leaves_nothing_behind(archive: Path, db_url: str, tmp_path: Path) -> None:
    """The last step fails (avatars/ is a dangling link, so the rename cannot replace it): the rows go again."""
    target_dir = tmp_path / "target-data"
    target_dir.mkdir()
    (target_dir / "avatars").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(OSError):
        await restore_backup(archive, db_url, target_dir)
    assert all(rows == [] for rows in (await every_row(db_url)).values())
    assert [p.name for p in target_dir.iterdir()] == ["avatars"]  # only what was there; no temp folder left


class FakeClock:
    """Local time that moves only when the loop sleeps; `nights` sleeps, then waits forever."""

    def __init__(self, now: datetime, nights: int) -> None:
        self.current, self.nights = now, nights
        self.sleeps: list[float] = []
        self.done = asyncio.Event()

    def now(self) -> datetime:
        return self.current

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if len(self.sleeps) > self.nights:
            self.done.set()
            await asyncio.Event().wait()
        self.current += timedelta(seconds=seconds)


async def test_nightly_backups_run_at_the_hour_and_keep_the_retention(tmp_path: Path) -> None:
    data_dir, folder = tmp_path / "data", tmp_path / "backups"
    async with temporary_database(tmp_path) as url:
        await populate(url, data_dir)
        clock = FakeClock(datetime(2026, 3, 2, 14, 30), nights=20)  # a Monday afternoon
        nightly = NightlyBackups(
            db_url=url, data_dir=data_dir, folder=folder, run_at="03:00", keep_daily=3, keep_weekly=2, clock=clock
        )
        nightly.start()
        await clock.done.wait()
        await nightly.aclose()
        await nightly.aclose()  # idempotent
    assert clock.sleeps[0] == 12.5 * 3600 and set(clock.sleeps[1:]) == {24 * 3600}
    kept = sorted(t for p in folder.iterdir() if (t := archive_time(p.name)))
    # 20 nights: Mar 3 .. Mar 22 at 03:00. Daily: the last 3; weekly: Sunday Mar 22 (its week), Sunday Mar 15.
    assert kept == [
        datetime(2026, 3, 15, 3),
        datetime(2026, 3, 20, 3),
        datetime(2026, 3, 21, 3),
        datetime(2026, 3, 22, 3),
    ]
    assert nightly.last_archive == folder / "memoria-20260322-030000.tar" and nightly.last_error is None
    assert not [p for p in folder.iterdir() if p.name.startswith(".tmp-")]
    restored = tmp_path / "restored"
    await restore_backup(nightly.last_archive, sqlite_url(tmp_path / "restored.db"), restored)
    assert owned_files(restored) == {p: d for p, d in owned_files(data_dir).items() if not _skipped(p)}
    shutil.rmtree(restored)


def _insert_user_now(url: str, email: str) -> None:
    """A write by another client, committed at once (sync: it must land before the dump goes on)."""
    parsed = make_url(url)
    sql = "INSERT INTO users (email, password_hash, display_name, created_at) VALUES (%s, 'x', '', '2026-01-01')"
    if parsed.get_backend_name() == "sqlite":
        with sqlite3.connect(parsed.database or "") as connection:
            connection.execute(sql.replace("%s", "?"), (email,))
        return
    connection = pymysql.connect(
        host=parsed.host,
        port=parsed.port or 3306,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, (email,))
        connection.commit()
    finally:
        connection.close()


async def test_a_write_during_the_dump_is_not_in_it(migrated_db_url: str, tmp_path: Path) -> None:
    """The dump is one snapshot taken before the first table is read: a user added after that is not in it."""
    await populate(migrated_db_url, tmp_path / "data")
    before = len((await every_row(migrated_db_url))["users"])
    stages: list[str] = []

    def progress(stage: str, done: int, total: int) -> None:
        stages.append(stage)
        if len(stages) == 1:  # the transaction is open, no table read yet
            _insert_user_now(migrated_db_url, "late@example.org")

    manifest = await create_backup(migrated_db_url, tmp_path / "data", tmp_path / "b.tar", progress=progress)
    assert stages[0] == f"table {Base.metadata.sorted_tables[0].name}" and "files" in stages
    assert len((await every_row(migrated_db_url))["users"]) == before + 1  # the write did happen
    assert next(t.rows for t in manifest.tables if t.name == "users") == before


async def test_backup_and_restore_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`memoria backup FOLDER` names the archive; `memoria restore` fills a new, empty instance."""
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "MEMORIA_DATABASE_URL", "MEMORIA_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    async with temporary_database(tmp_path) as url:
        await populate(url, tmp_path / "data")
        (tmp_path / "out").mkdir()
        env = {"DATABASE_URL": url, "MEMORIA_DATA_DIR": str(tmp_path / "data")}
        made = await asyncio.to_thread(CliRunner().invoke, backup_command, [str(tmp_path / "out")], env=env)
        assert made.exit_code == 0, made.output
        [archive] = (tmp_path / "out").iterdir()
        assert archive_time(archive.name) is not None
        assert "5 files" in made.output and f"warning: {MISSING_VOICE}" in made.output

        env = {"DATABASE_URL": sqlite_url(tmp_path / "new.db"), "MEMORIA_DATA_DIR": str(tmp_path / "new")}
        restored = await asyncio.to_thread(CliRunner().invoke, restore_command, [str(archive)], env=env)
        assert restored.exit_code == 0, restored.output
        assert await every_row(sqlite_url(tmp_path / "new.db")) == await every_row(url)

        again = await asyncio.to_thread(CliRunner().invoke, restore_command, [str(archive)], env=env)
        assert again.exit_code == 1 and "already holds files" in again.output and "Traceback" not in again.output


async def test_the_server_runs_nightly_backups_when_a_folder_is_set(tmp_path: Path) -> None:
    from server.registry import Registry, RegistryFile
    from server.runtime import Runtime
    from server.settings import BackupSettings, Settings

    async with temporary_database(tmp_path) as url:
        registry = Registry(RegistryFile(), weights_dir=tmp_path / "weights")
        registry.load(entry_points=False)
        plain = Settings(data_dir=tmp_path / "data", database_url=url)
        async with Runtime.open(plain, registry) as runtime:
            assert runtime.backups is None
        settings = plain.with_changes(backup=BackupSettings(folder=tmp_path / "nightly", run_at="04:30", keep_daily=3))
        async with Runtime.open(settings, registry) as runtime:
            backups = runtime.backups
            assert backups is not None and backups._task is not None and not backups._task.done()
            assert (backups.folder, backups.keep_daily, backups.run_at.hour) == (tmp_path / "nightly", 3, 4)
            assert (await backups.run_once()).parent == tmp_path / "nightly"
        assert backups._task is None  # stopped with the server
