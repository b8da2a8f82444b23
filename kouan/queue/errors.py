"""Errors of the review queue (HTTP: not found -> 404, conflicts -> 409)."""

from __future__ import annotations

from kouan.errors import KouanError, UsageError


class ReviewItemNotFound(UsageError):
    """No review item (or finding) with that id."""


class ReviewConflict(KouanError):
    """The item is not in a state that allows this: claimed by someone else, already decided,
    or changed concurrently. The message says which; reload the item and retry."""


class FindingConflict(ReviewConflict):
    """A finding id was re-submitted with different content (an id reused, not a retry)."""
