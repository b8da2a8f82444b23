"""Checks of a sequence of ledger lines: hashes, signatures, order, duplicates, gaps, links.

Lines may arrive in any order (that is one of the things checked). Each problem names the
record (``ledger seq N``) and where it was read (segment key and line, database, bundle).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kouan.evidence.canonical import GENESIS_HASH, entry_hash, entry_hash_from_line_bytes
from kouan.evidence.keys import signature_ok
from kouan.evidence.ledger import Line
from kouan.evidence.report import VerifyReport

_PARALLEL_MIN = 2048


def verify_signatures(key: Ed25519PublicKey, items: list[tuple[str, str]]) -> list[bool]:
    """``signature_ok`` for each ``(entry_hash, signature)``; threads (OpenSSL releases the GIL
    during Ed25519 verification, ~125 us each on the project machine)."""
    workers = min(os.cpu_count() or 1, 8)
    if len(items) < _PARALLEL_MIN or workers < 2:
        return [signature_ok(key, h, s) for h, s in items]
    size = -(-len(items) // workers)
    chunks = [items[i:i + size] for i in range(0, len(items), size)]
    with ThreadPoolExecutor(workers) as ex:
        parts = ex.map(lambda ch: [signature_ok(key, h, s) for h, s in ch], chunks)
    return [ok for part in parts for ok in part]


@dataclass
class _Seen:
    prev_hash: str
    entry_hash: str
    signature: str
    where: str


class ChainChecker:
    """Feed lines with :meth:`add`, then call :meth:`finish` once.

    ``known_good`` maps seq -> a line that already passed every check elsewhere (the same
    entry in a verified segment); an identical line here is not re-hashed or re-verified.
    """

    def __init__(self, key: Ed25519PublicKey, report: VerifyReport, *,
                 known_good: dict[int, Line] | None = None, full: bool = False) -> None:
        self.key = key
        self.report = report
        self.known_good = known_good or {}
        self.full = full
        self.seen: dict[int, _Seen] = {}
        self.lines: dict[int, Line] = {}
        self.bad: set[int] = set()
        self._last_seq = -1
        self._pending_sigs: list[tuple[int, str, str, str]] = []

    def add(self, line: Line, where: str, *, signature_vouched: bool = False,
            raw: bytes | None = None, hash_ok: bool = False) -> None:
        """Check one line read at ``where``. ``signature_vouched``: covered by a verified seal;
        ``raw``: the stored canonical bytes (lets the hash be recomputed without re-encoding);
        ``hash_ok``: the caller already recomputed the hash from the stored bytes."""
        seq = line["seq"]
        name = f"ledger seq {seq}"
        already_checked = not self.full and self.known_good.get(seq) == line
        if not (already_checked or hash_ok) and self._hash(line, raw) != line["entry_hash"]:
            self.bad.add(seq)
            self.report.add(name, "hash_mismatch",
                            f"content does not match its entry_hash (edited) [{where}]")
        if seq in self.seen:
            self.bad.add(seq)
            first = self.seen[seq]
            same = (first.entry_hash, first.signature) == (line["entry_hash"], line["signature"])
            self.report.add(name, "replayed" if same else "duplicate_seq",
                            f"seq appears again [{where}], first at [{first.where}]"
                            + ("" if same else " with different content"))
            return
        if seq < self._last_seq:
            self.bad.add(seq)
            self.report.add(name, "out_of_order",
                            f"appears after seq {self._last_seq} (reordered) [{where}]")
        self._last_seq = max(self._last_seq, seq)
        self.seen[seq] = _Seen(line["prev_hash"], line["entry_hash"], line["signature"], where)
        self.lines[seq] = line
        if self.full or not (signature_vouched or already_checked):
            self._pending_sigs.append((seq, where, line["entry_hash"], line["signature"]))
        elif signature_vouched:
            self.report.records_under_seal += 1

    @staticmethod
    def _hash(line: Line, raw: bytes | None) -> str:
        fast = entry_hash_from_line_bytes(raw, line) if raw is not None else None
        return fast if fast is not None else entry_hash(line)

    def good_lines(self) -> dict[int, Line]:
        """Lines that passed every check (valid after :meth:`finish`)."""
        return {seq: ln for seq, ln in self.lines.items() if seq not in self.bad}

    def finish(self, *, expect_through: int | None = None, start_seq: int = 0,
               check_gaps: bool = True) -> None:
        """Verify pending signatures, links between consecutive seqs and gaps.

        ``expect_through``: the last seq that must be present (e.g. from the ledger head);
        ``start_seq``: first seq expected (0 for a full chain); ``check_gaps=False`` for slices.
        """
        items = [(h, s) for _, _, h, s in self._pending_sigs]
        for (seq, where, _, _), ok in zip(self._pending_sigs, verify_signatures(self.key, items),
                                          strict=True):
            self.report.signatures_verified += 1
            if not ok:
                self.bad.add(seq)
                self.report.add(f"ledger seq {seq}", "signature_invalid",
                                f"Ed25519 signature does not verify with the trusted key [{where}]")
        self._pending_sigs.clear()
        for seq, s in sorted(self.seen.items()):
            if seq == 0:
                if s.prev_hash != GENESIS_HASH:
                    self.bad.add(0)
                    self.report.add("ledger seq 0", "chain_break",
                                    f"prev_hash is not the genesis hash [{s.where}]")
            elif seq - 1 in self.seen and s.prev_hash != self.seen[seq - 1].entry_hash:
                self.bad.add(seq)
                self.report.add(f"ledger seq {seq}", "chain_break",
                                f"prev_hash does not match entry_hash of seq {seq - 1} [{s.where}]")
        if not check_gaps:  # a case slice is not contiguous
            return
        last = max(self.seen, default=start_seq - 1)
        if expect_through is not None:
            last = max(last, expect_through)
        self._report_gaps(start_seq, last)

    def _report_gaps(self, first: int, last: int) -> None:
        gap_start: int | None = None
        for seq in range(first, last + 2):
            present = seq in self.seen or seq > last
            if not present and gap_start is None:
                gap_start = seq
            elif present and gap_start is not None:
                end = seq - 1
                what = f"ledger seq {gap_start}" + (f"-{end}" if end > gap_start else "")
                self.report.add(what, "missing", "entries absent from the chain (deleted)")
                gap_start = None
