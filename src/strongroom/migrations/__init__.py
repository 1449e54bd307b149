"""Alembic migrations: every schema change, from the first table on, for SQLite and PostgreSQL."""
