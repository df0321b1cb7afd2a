"""Ids are never reused; login failures are kept across restarts; the unused response_cache goes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03

SQLite without AUTOINCREMENT hands a deleted row's id to the next row: a call still running for a
deleted avatar then wrote into another user's new conversation. Every table with an integer id is
rebuilt with AUTOINCREMENT (MySQL/MariaDB InnoDB counters already never go back). The
response_cache table of the first schema was never used: the render cache replays sentences.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
MYSQL_TABLE: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}
# Parents before children, as SQLite rebuilds them (foreign keys are off during migrations).
ID_TABLES = (
    "users",
    "api_tokens",
    "avatars",
    "avatar_images",
    "conversations",
    "generated_videos",
    "memories",
    "voice_samples",
    "messages",
    "video_calls",
)


def upgrade() -> None:
    op.drop_table("response_cache")  # with its index (MySQL refuses to drop an index a foreign key needs)
    if op.get_bind().dialect.name == "sqlite":
        for table in ID_TABLES:
            with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
                pass
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
        sqlite_autoincrement=True,
        **MYSQL_TABLE,
    )
    op.create_index(op.f("ix_login_failures_key"), "login_failures", ["key"], unique=False)


def downgrade() -> None:
    op.drop_table("login_failures")
    op.create_table(
        "response_cache",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("avatar_id", sa.Integer(), nullable=False),
        sa.Column("prompt_hash", sa.String(64), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("emotion", sa.String(16), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["avatar_id"], ["avatars.id"], name=op.f("fk_response_cache_avatar_id_avatars"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_cache")),
        **MYSQL_TABLE,
    )
    op.create_index("ix_response_cache_lookup", "response_cache", ["avatar_id", "prompt_hash"])
