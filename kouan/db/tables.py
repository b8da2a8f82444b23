"""Imports every table module so ``Base.metadata`` is complete (Alembic and tests use it)."""

from kouan.db import alarms, ledger, review, review_labels, tokens  # noqa: F401
from kouan.db.base import Base

metadata = Base.metadata
