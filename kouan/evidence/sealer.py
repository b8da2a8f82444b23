"""A background thread that seals the ledger every ``interval_s`` seconds (``kouan serve``).

Sealing copies new ledger entries into immutable store segments, so the store alone holds the
whole chain and ``verify`` can check them under one seal signature per segment. Failures (the
store down, a corrupt database ledger) are logged and retried at the next tick; they never
stop the thread.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from kouan.errors import KouanError

log = logging.getLogger(__name__)


class Sealable(Protocol):
    def seal(self) -> list[str]: ...


class PeriodicSealer:
    def __init__(self, service: Sealable, interval_s: float = 60.0) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be > 0")
        self.service = service
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> list[str]:
        """Seal once; return the segment keys written (empty on failure, which is logged)."""
        try:
            keys = self.service.seal()
        except KouanError as exc:
            log.error("evidence sealing failed: %s", exc)
            return []
        if keys:
            log.info("sealed %d ledger segment(s): %s", len(keys), ", ".join(keys))
        return keys

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="evidence-sealer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.tick()

    def stop(self, *, final_seal: bool = True) -> None:
        """Stop the thread (and seal what is left, unless ``final_seal=False``)."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=30)
            self._thread = None
        if final_seal:
            self.tick()
