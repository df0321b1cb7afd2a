"""Calls: signalling, the live calls of this process, and their records in the database."""
