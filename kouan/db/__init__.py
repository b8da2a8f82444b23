"""Relational persistence: SQLAlchemy 2 models and Alembic migrations (SQLite or PostgreSQL)."""
