"""Database models and engine (SQLAlchemy 2, async)."""
