"""Tables. Files (photos, voice samples, recordings, renders) live on disk under the data
directory and are referenced here by path relative to it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.ext.mutable import MutableDict, MutableList
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# MySQL's DATETIME drops fractions of a second unless asked for them.
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
LongText = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
# Mutable wrappers, so `avatar.backends["asr"] = "x"` is saved like an assignment would be
# (top-level changes only; replace the value to change nested ones).
JsonDict = MutableDict.as_mutable(JSON())
JsonList = MutableList.as_mutable(JSON())
# Double, not Float: MySQL's FLOAT is single precision, so 0.87 would come back as 0.8700000047.
Real: Double[float] = Double()

# Every table on MySQL/MariaDB: InnoDB (foreign keys, transactions) and full Unicode (emoji, CJK),
# whatever the server's defaults are.
# SQLite: AUTOINCREMENT, so a deleted row's id is never handed to a new row (a stale reference, such
# as a call still running for a deleted avatar, must never reach someone else's row).
MYSQL_TABLE: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
    "sqlite_autoincrement": True,
}

# Stable constraint names: alembic can only drop or alter (SQLite batch mode) what has a name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


MAX_ID = 2**31 - 1  # ids are INTEGER columns (32-bit on MySQL): a larger one names no row


def possible_id(value: int) -> bool:
    """Whether `value` could be a row id (a path's 2**63 must be a 404, not a database error)."""
    return 0 < value <= MAX_ID


def utcnow() -> datetime:
    """Naive UTC: portable across SQLite and MySQL, which store no zone."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: Timestamp,
        dict[str, Any]: JsonDict,
        list[Any]: JsonList,
        float: Real,
    }


class User(Base):
    __tablename__ = "users"
    __table_args__ = MYSQL_TABLE

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    avatars: Mapped[list[Avatar]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True
    )


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = MYSQL_TABLE

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class Avatar(Base):
    """The person being remembered, owned by one user."""

    __tablename__ = "avatars"
    __table_args__ = MYSQL_TABLE

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    relationship_to_user: Mapped[str] = mapped_column(String(120))  # as the uploader stated it
    user_name: Mapped[str] = mapped_column(String(120), default="")  # what the person called the user
    consent_statement: Mapped[str] = mapped_column(Text)
    consent_at: Mapped[datetime]
    backends: Mapped[dict[str, Any]] = mapped_column(default=dict)  # kind -> backend name overrides
    voice_profile: Mapped[dict[str, Any]] = mapped_column(default=dict)  # learned from voice samples
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    owner: Mapped[User] = relationship(back_populates="avatars")
    personality: Mapped[Personality | None] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, uselist=False
    )
    images: Mapped[list[AvatarImage]] = relationship(cascade="all, delete-orphan", passive_deletes=True)
    voice_samples: Mapped[list[VoiceSample]] = relationship(cascade="all, delete-orphan", passive_deletes=True)
    memories: Mapped[list[Memory]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class Personality(Base):
    __tablename__ = "personality"
    __table_args__ = MYSQL_TABLE

    avatar_id: Mapped[int] = mapped_column(ForeignKey("avatars.id", ondelete="CASCADE"), primary_key=True)
    personality: Mapped[str] = mapped_column(Text, default="")
    speaking_style: Mapped[str] = mapped_column(Text, default="")
    example_phrases: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AvatarImage(Base):
    __tablename__ = "avatar_images"
    __table_args__ = MYSQL_TABLE

    id: Mapped[int] = mapped_column(primary_key=True)
    avatar_id: Mapped[int] = mapped_column(ForeignKey("avatars.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(512))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    face_landmarks: Mapped[dict[str, Any]] = mapped_column(default=dict)
    quality_score: Mapped[float] = mapped_column(Real, default=0.0)
    quality: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the parts of the score, with advice
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VoiceSample(Base):
    __tablename__ = "voice_samples"
    __table_args__ = MYSQL_TABLE

    id: Mapped[int] = mapped_column(primary_key=True)
    avatar_id: Mapped[int] = mapped_column(ForeignKey("avatars.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(512))
    original_name: Mapped[str] = mapped_column(String(255), default="")
    duration_s: Mapped[float] = mapped_column(Real)
    sample_rate: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Memory(Base):
    __tablename__ = "memories"
    __table_args__ = MYSQL_TABLE

    id: Mapped[int] = mapped_column(primary_key=True)
    avatar_id: Mapped[int] = mapped_column(ForeignKey("avatars.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = MYSQL_TABLE

    id: Mapped[int] = mapped_column(primary_key=True)
    avatar_id: Mapped[int] = mapped_column(ForeignKey("avatars.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")  # rolling summary for long calls
    started_at: Mapped[datetime] = mapped_column(default=utcnow)

    messages: Mapped[list[Message]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="Message.id"
    )


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = MYSQL_TABLE

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # "user" | "avatar"
    text: Mapped[str] = mapped_column(Text)
    emotion: Mapped[str | None] = mapped_column(String(16), default=None)
    flags: Mapped[dict[str, Any]] = mapped_column(default=dict)  # e.g. {"crisis": true}, {"interrupted": true}
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VideoCall(Base):
    __tablename__ = "video_calls"
    __table_args__ = (
        CheckConstraint("user_satisfaction IS NULL OR (user_satisfaction BETWEEN 1 AND 5)", name="satisfaction"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    avatar_id: Mapped[int] = mapped_column(ForeignKey("avatars.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    end_reason: Mapped[str | None] = mapped_column(String(64), default=None)
    total_exchanges: Mapped[int] = mapped_column(Integer, default=0)
    recording_path: Mapped[str | None] = mapped_column(String(512), default=None)
    user_satisfaction: Mapped[int | None] = mapped_column(Integer, default=None)


class GeneratedVideo(Base):
    """A rendered reply (audio + video) kept for replay when the same words come again."""

    __tablename__ = "generated_videos"
    __table_args__ = (Index("ix_generated_videos_lookup", "avatar_id", "text_hash", "emotion"), MYSQL_TABLE)

    id: Mapped[int] = mapped_column(primary_key=True)
    avatar_id: Mapped[int] = mapped_column(ForeignKey("avatars.id", ondelete="CASCADE"))
    text_hash: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    emotion: Mapped[str] = mapped_column(String(16), default="neutral")
    path: Mapped[str] = mapped_column(String(512))
    duration_s: Mapped[float] = mapped_column(Real, default=0.0)
    backend: Mapped[str] = mapped_column(String(120), default="")  # animator + voice that made it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginFailure(Base):
    """A failed login, keyed by account, by address, or both; kept across restarts (server.domain.accounts.throttle)."""

    __tablename__ = "login_failures"
    __table_args__ = MYSQL_TABLE

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
