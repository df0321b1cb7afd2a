"""The async engine, sessions and alembic migrations for SQLite (default) and MySQL/MariaDB.

`upgrade`/`downgrade` run alembic on a connection of our own engine, so they work from inside a
running event loop (`memoria serve` upgrades on start) and report an unreachable database as a
ConfigError with a fix instead of a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, InvalidRequestError, NoSuchModuleError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from server.errors import ConfigError

if TYPE_CHECKING:
    from alembic.config import Config

# The checkout's migrations/ folder, or where a wheel installs it (data-files in pyproject.toml).
CHECKOUT_MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
INSTALLED_MIGRATIONS = Path(sys.prefix) / "share" / "memoria" / "migrations"
# Bare dialect names a self-hoster may write, mapped to the async drivers we ship.
ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "mysql": "mysql+aiomysql", "mariadb": "mysql+aiomysql"}
# CHECK constraint failures: MariaDB ER_CONSTRAINT_FAILED, MySQL ER_CHECK_CONSTRAINT_VIOLATED.
MYSQL_CHECK_ERRORS = frozenset({4025, 3819})
MYSQL_POOL_RECYCLE_S = 3600  # below MySQL's default wait_timeout (8 h), so idle connections never die under us

T = TypeVar("T")


def parse_url(url: str | URL) -> URL:
    """Parse a database URL, upgrading `sqlite://`/`mysql://` to their async drivers."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"bad database URL {url!r}", hint="e.g. mysql+aiomysql://user:pass@host/db") from exc
    if parsed.drivername in ASYNC_DRIVERS:
        parsed = parsed.set(drivername=ASYNC_DRIVERS[parsed.drivername])
    if parsed.get_backend_name() in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})  # emoji and CJK, not MySQL's 3-byte utf8
    return parsed


def display_url(url: str | URL) -> str:
    """The URL with its password hidden, for messages."""
    return parse_url(url).render_as_string(hide_password=True)


def make_engine(url: str | URL, *, sqlite_foreign_keys: bool = True, **kwargs: Any) -> AsyncEngine:
    """An AsyncEngine for SQLite (folder created, foreign keys on) or MySQL/MariaDB (utf8mb4, recycled pool).

    Migrations pass `sqlite_foreign_keys=False`: SQLite's batch mode copies and drops tables, and a
    drop with foreign keys on would cascade into the child tables' rows.
    """
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        _make_sqlite_folder(parsed)
    elif backend in ("mysql", "mariadb"):
        kwargs.setdefault("pool_recycle", MYSQL_POOL_RECYCLE_S)
        kwargs.setdefault("pool_pre_ping", True)
    try:
        engine = create_async_engine(parsed, **kwargs)
    except (NoSuchModuleError, InvalidRequestError, ImportError) as exc:
        raise ConfigError(
            f"cannot use the database URL {display_url(parsed)}: {exc}",
            hint="use sqlite+aiosqlite:///path/to/file.db or mysql+aiomysql://user:pass@host/db",
        ) from exc
    if backend == "sqlite" and sqlite_foreign_keys:
        event.listen(engine.sync_engine, "connect", _sqlite_foreign_keys_on)
    elif backend in ("mysql", "mariadb"):
        event.listen(engine.sync_engine, "handle_error", _mysql_check_is_integrity_error)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (no lazy reload on the event loop)."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def upgrade(url: str | URL, revision: str = "head") -> None:
    """Migrate the database at `url` up to `revision`."""
    from alembic import command

    await _run_alembic(url, lambda config: command.upgrade(config, revision))


async def downgrade(url: str | URL, revision: str) -> None:
    """Migrate the database at `url` down to `revision` ("base" removes every table)."""
    from alembic import command

    await _run_alembic(url, lambda config: command.downgrade(config, revision))


async def current_revision(url: str | URL) -> str | None:
    """The revision the database is at; None when it has never been migrated."""
    from alembic.runtime.migration import MigrationContext

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    return await _on_connection(url, read)


def head_revision() -> str | None:
    """The newest revision in the migrations folder."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def migrations_dir() -> Path:
    """The alembic folder: the checkout's, else the one a wheel installed."""
    for folder in (CHECKOUT_MIGRATIONS, INSTALLED_MIGRATIONS):
        if (folder / "env.py").is_file():
            return folder
    raise ConfigError(
        f"no migrations in {CHECKOUT_MIGRATIONS} or {INSTALLED_MIGRATIONS}",
        hint="reinstall Memoria (pip install .) or run from a full checkout",
    )


def alembic_config(url: str | URL | None = None) -> Config:
    """An alembic Config for our migrations folder, independent of the working directory."""
    from alembic.config import Config

    folder = migrations_dir()
    config = Config()
    config.set_main_option("script_location", str(folder))
    if url is not None:
        # ConfigParser interpolates %, which URL-encoded passwords contain.
        config.set_main_option(
            "sqlalchemy.url", parse_url(url).render_as_string(hide_password=False).replace("%", "%%")
        )
    return config


async def _run_alembic(url: str | URL, action: Callable[[Config], None]) -> None:
    from alembic.util import CommandError

    def run(connection: Connection) -> None:
        config = alembic_config(url)
        config.attributes["connection"] = connection  # env.py migrates on it instead of opening its own
        try:
            action(config)
        except CommandError as exc:  # an unknown revision, here or in the database
            raise ConfigError(
                f"cannot migrate {display_url(url)}: {exc}", hint="`memoria db current` shows where it is"
            ) from exc

    await _on_connection(url, run, transaction=True)


async def _on_connection(url: str | URL, work: Callable[[Connection], T], *, transaction: bool = False) -> T:
    """Run `work` on a sync view of one connection, with connection failures as ConfigError."""
    engine = make_engine(url, sqlite_foreign_keys=False, poolclass=NullPool)
    try:
        try:
            connection = await engine.connect()
        except (DBAPIError, OSError) as exc:
            raise ConfigError(
                f"cannot reach the database at {display_url(url)}: {_reason(exc)}",
                hint="check that the server runs and the URL's user, password and database are right "
                "(DATABASE_URL or MEMORIA_DATABASE_URL)",
            ) from exc
        try:
            if transaction:
                async with connection.begin():
                    return await connection.run_sync(work)
            return await connection.run_sync(work)
        finally:
            await connection.close()
    finally:
        await engine.dispose()


def _reason(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    return str(original).strip() or type(original).__name__


def _make_sqlite_folder(url: URL) -> None:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        folder = Path(database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create {folder} for the database: {exc}", hint="set MEMORIA_DATA_DIR or DATABASE_URL"
            ) from exc


def _sqlite_foreign_keys_on(dbapi_connection: Any, _record: Any) -> None:
    # SQLite ignores ON DELETE CASCADE unless each connection asks for foreign keys.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _mysql_check_is_integrity_error(context: ExceptionContext) -> BaseException | None:
    # PyMySQL reports a failed CHECK as OperationalError; SQLite (and the rest of SQLAlchemy's
    # dialects) as IntegrityError. One kind lets callers catch one thing on every database.
    original = context.original_exception
    code = original.args[0] if original.args else None
    if code in MYSQL_CHECK_ERRORS and not isinstance(context.sqlalchemy_exception, IntegrityError):
        return IntegrityError(context.statement, context.parameters, original)
    return None
