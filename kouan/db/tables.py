"""Imports every table module so ``Base.metadata`` is complete (Alembic and tests use it)."""

from kouan.db import alarms, review  # noqa: F401
from kouan.db import tokens  # noqa: F401
from kouan.db.base import Base

metadata = Base.metadata
