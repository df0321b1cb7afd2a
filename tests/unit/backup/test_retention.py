"""Which nightly archives are kept, and when the next night is."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from server.backup.schedule import archive_name, archive_time, archives_to_keep, next_run, parse_run_at, prune
from server.errors import ConfigError


def nights(first: datetime, count: int) -> list[datetime]:
    return [first + timedelta(days=n) for n in range(count)]


def test_keeps_the_last_days_and_the_newest_of_the_last_weeks() -> None:
    stamps = nights(datetime(2026, 3, 1, 3), 31)  # Sun Mar 1 .. Tue Mar 31
    kept = archives_to_keep(stamps, keep_daily=7, keep_weekly=4)
    daily = nights(datetime(2026, 3, 25, 3), 7)  # Mar 25 .. 31
    weekly = [datetime(2026, 3, d, 3) for d in (31, 29, 22, 15)]  # newest of this week, then Sundays
    assert kept == set(daily) | set(weekly)


def test_several_archives_a_day_count_as_one_day() -> None:
    stamps = [datetime(2026, 3, 10, h) for h in (1, 3, 23)] + [datetime(2026, 3, 9, 3)]
    assert archives_to_keep(stamps, keep_daily=2, keep_weekly=0) == {datetime(2026, 3, 10, 23), datetime(2026, 3, 9, 3)}


def test_gaps_do_not_use_up_days() -> None:
    """The last N days that have a backup, not the last N calendar days (a week away keeps them all)."""
    stamps = [datetime(2026, 3, 1, 3), datetime(2026, 3, 2, 3), datetime(2026, 3, 20, 3)]
    assert archives_to_keep(stamps, keep_daily=3, keep_weekly=0) == set(stamps)


def test_the_newest_archive_is_always_kept() -> None:
    stamps = nights(datetime(2026, 3, 1, 3), 5)
    assert archives_to_keep(stamps, keep_daily=0, keep_weekly=0) == {datetime(2026, 3, 5, 3)}
    assert archives_to_keep([], keep_daily=7, keep_weekly=4) == set()


def test_prune_deletes_only_nightly_archives_not_kept(tmp_path: Path) -> None:
    for stamp in nights(datetime(2026, 3, 1, 3), 10):
        (tmp_path / archive_name(stamp)).write_bytes(b"x")
    (tmp_path / "my-own-copy.tar").write_bytes(b"mine")
    (tmp_path / ".tmp-backup-abc").mkdir()
    removed = prune(tmp_path, keep_daily=2, keep_weekly=1)
    assert len(removed) == 8
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == [".tmp-backup-abc", "memoria-20260309-030000.tar", "memoria-20260310-030000.tar", "my-own-copy.tar"]


def test_archive_names_round_trip() -> None:
    stamp = datetime(2026, 12, 31, 3, 0, 5)
    assert archive_name(stamp) == "memoria-20261231-030005.tar"
    assert archive_time(archive_name(stamp)) == stamp
    assert archive_time("memoria-latest.tar") is None and archive_time("notes.txt") is None


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 3, 10, 2, 59), datetime(2026, 3, 10, 3)),
        (datetime(2026, 3, 10, 3, 0), datetime(2026, 3, 11, 3)),  # just ran: tomorrow
        (datetime(2026, 3, 10, 14, 0), datetime(2026, 3, 11, 3)),
        (datetime(2026, 12, 31, 23, 0), datetime(2027, 1, 1, 3)),
    ],
)
def test_next_run(now: datetime, expected: datetime) -> None:
    assert next_run(now, time(3, 0)) == expected


def test_a_bad_time_fails_with_the_format() -> None:
    assert parse_run_at("03:30") == time(3, 30)
    with pytest.raises(ConfigError, match="HH:MM"):
        parse_run_at("3am")
