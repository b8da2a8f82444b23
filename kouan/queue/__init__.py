"""Review queue: findings awaiting human review, leases, decisions (see ``service``)."""

from kouan.queue.errors import FindingConflict, ReviewConflict, ReviewItemNotFound
from kouan.queue.records import ReviewEntry, ReviewEvent
from kouan.queue.service import QueueFilter, ReviewQueue

__all__ = ["FindingConflict", "QueueFilter", "ReviewConflict", "ReviewEntry", "ReviewEvent",
           "ReviewItemNotFound", "ReviewQueue"]
