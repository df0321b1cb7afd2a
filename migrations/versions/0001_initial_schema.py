"""Initial schema: users, tokens, avatars and what they are made of, conversations, calls, caches.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Types are spelled out here rather than imported from server.db.models, so this revision keeps
creating the same schema when the models move on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# DATETIME(6): MySQL/MariaDB keep no fractions of a second otherwise.
Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
MYSQL_TABLE: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}

# Parents before children; downgrade() walks this backwards.
TABLES = (
    "users",
    "api_tokens",
    "avatars",
    "avatar_images",
    "conversations",
    "generated_videos",
    "memories",
    "personality",
    "response_cache",
    "voice_samples",
    "messages",
    "video_calls",
)


def _id() -> sa.Column[Any]:
    return sa.Column("id", sa.Integer(), nullable=False)


def _created() -> sa.Column[Any]:
    return sa.Column("created_at", Timestamp, nullable=False)


def _fk(column: str, parent: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{parent}.id"], name=op.f(f"fk_{table}_{column}_{parent}"), ondelete="CASCADE"
    )


def _pk(table: str, column: str = "id") -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(column, name=op.f(f"pk_{table}"))


def _index(table: str, column: str) -> None:
    op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "users",
        _id(),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("display_name", sa.String(120), nullable=False),
        _created(),
        _pk("users"),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        **MYSQL_TABLE,
    )
    op.create_table(
        "api_tokens",
        _id(),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _created(),
        sa.Column("expires_at", Timestamp, nullable=False),
        _fk("user_id", "users", "api_tokens"),
        _pk("api_tokens"),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
        **MYSQL_TABLE,
    )
    _index("api_tokens", "user_id")
    op.create_table(
        "avatars",
        _id(),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("relationship_to_user", sa.String(120), nullable=False),
        sa.Column("user_name", sa.String(120), nullable=False),
        sa.Column("consent_statement", sa.Text(), nullable=False),
        sa.Column("consent_at", Timestamp, nullable=False),
        sa.Column("backends", sa.JSON(), nullable=False),
        sa.Column("voice_profile", sa.JSON(), nullable=False),
        _created(),
        sa.Column("updated_at", Timestamp, nullable=False),
        _fk("owner_id", "users", "avatars"),
        _pk("avatars"),
        **MYSQL_TABLE,
    )
    _index("avatars", "owner_id")
    op.create_table(
        "avatar_images",
        _id(),
        sa.Column("avatar_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("face_landmarks", sa.JSON(), nullable=False),
        sa.Column("quality_score", sa.Double(), nullable=False),
        sa.Column("quality", sa.JSON(), nullable=False),
        _created(),
        _fk("avatar_id", "avatars", "avatar_images"),
        _pk("avatar_images"),
        **MYSQL_TABLE,
    )
    _index("avatar_images", "avatar_id")
    op.create_table(
        "conversations",
        _id(),
        sa.Column("avatar_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("started_at", Timestamp, nullable=False),
        _fk("avatar_id", "avatars", "conversations"),
        _fk("user_id", "users", "conversations"),
        _pk("conversations"),
        **MYSQL_TABLE,
    )
    _index("conversations", "avatar_id")
    _index("conversations", "user_id")
    op.create_table(
        "generated_videos",
        _id(),
        sa.Column("avatar_id", sa.Integer(), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("emotion", sa.String(16), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("duration_s", sa.Double(), nullable=False),
        sa.Column("backend", sa.String(120), nullable=False),
        _created(),
        _fk("avatar_id", "avatars", "generated_videos"),
        _pk("generated_videos"),
        **MYSQL_TABLE,
    )
    # Also serves the avatar_id foreign key on MySQL (leftmost column), and lookups by avatar.
    op.create_index("ix_generated_videos_lookup", "generated_videos", ["avatar_id", "text_hash", "emotion"])
    op.create_table(
        "memories",
        _id(),
        sa.Column("avatar_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _created(),
        sa.Column("updated_at", Timestamp, nullable=False),
        _fk("avatar_id", "avatars", "memories"),
        _pk("memories"),
        **MYSQL_TABLE,
    )
    _index("memories", "avatar_id")
    op.create_table(
        "personality",
        sa.Column("avatar_id", sa.Integer(), nullable=False),
        sa.Column("personality", sa.Text(), nullable=False),
        sa.Column("speaking_style", sa.Text(), nullable=False),
        sa.Column("example_phrases", sa.JSON(), nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        _fk("avatar_id", "avatars", "personality"),
        _pk("personality", "avatar_id"),
        **MYSQL_TABLE,
    )
    op.create_table(
        "response_cache",
        _id(),
        sa.Column("avatar_id", sa.Integer(), nullable=False),
        sa.Column("prompt_hash", sa.String(64), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("emotion", sa.String(16), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        _created(),
        _fk("avatar_id", "avatars", "response_cache"),
        _pk("response_cache"),
        **MYSQL_TABLE,
    )
    op.create_index("ix_response_cache_lookup", "response_cache", ["avatar_id", "prompt_hash"])
    op.create_table(
        "voice_samples",
        _id(),
        sa.Column("avatar_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("original_name", sa.String(255), nullable=False),
        sa.Column("duration_s", sa.Double(), nullable=False),
        sa.Column("sample_rate", sa.Integer(), nullable=False),
        _created(),
        _fk("avatar_id", "avatars", "voice_samples"),
        _pk("voice_samples"),
        **MYSQL_TABLE,
    )
    _index("voice_samples", "avatar_id")
    op.create_table(
        "messages",
        _id(),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("emotion", sa.String(16), nullable=True),
        sa.Column("flags", sa.JSON(), nullable=False),
        _created(),
        _fk("conversation_id", "conversations", "messages"),
        _pk("messages"),
        **MYSQL_TABLE,
    )
    _index("messages", "conversation_id")
    op.create_table(
        "video_calls",
        _id(),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("avatar_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("started_at", Timestamp, nullable=False),
        sa.Column("ended_at", Timestamp, nullable=True),
        sa.Column("end_reason", sa.String(64), nullable=True),
        sa.Column("total_exchanges", sa.Integer(), nullable=False),
        sa.Column("recording_path", sa.String(512), nullable=True),
        sa.Column("user_satisfaction", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "user_satisfaction IS NULL OR (user_satisfaction BETWEEN 1 AND 5)", name=op.f("ck_video_calls_satisfaction")
        ),
        _fk("avatar_id", "avatars", "video_calls"),
        _fk("conversation_id", "conversations", "video_calls"),
        _fk("user_id", "users", "video_calls"),
        _pk("video_calls"),
        **MYSQL_TABLE,
    )
    _index("video_calls", "avatar_id")
    _index("video_calls", "conversation_id")
    _index("video_calls", "user_id")


def downgrade() -> None:
    # Whole tables, children first. Dropping an index first fails on MySQL/MariaDB (error 1553)
    # when a foreign key still needs it; dropping the table takes its indexes along.
    for table in reversed(TABLES):
        op.drop_table(table)
