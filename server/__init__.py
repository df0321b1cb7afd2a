"""Memoria: a self-hosted video call with an avatar of someone you lost."""

__version__ = "0.1.0"
