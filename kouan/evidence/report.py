"""The verification report: what was checked, and each broken record by name."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One broken thing. ``where`` names it (``ledger seq 17``, ``object objects/sha256/...``,
    ``segment ledger/segments/...``, ``manifest cases/...``, ``bundle member ...``);
    ``kind`` is a stable code; ``detail`` says what differs and where it was found."""

    where: str
    kind: str
    detail: str

    def line(self) -> str:
        return f"{self.where}: {self.kind}: {self.detail}"


@dataclass
class VerifyReport:
    target: str
    key_fingerprint: str = ""
    key_source: str = ""
    objects_checked: int = 0
    records_checked: int = 0
    signatures_verified: int = 0
    records_under_seal: int = 0
    segments_checked: int = 0
    manifests_checked: int = 0
    elapsed_s: float = 0.0
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, where: str, kind: str, detail: str) -> None:
        self.problems.append(Problem(where, kind, detail))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        return d

    def text(self) -> str:
        rate = self.records_checked / self.elapsed_s if self.elapsed_s > 0 else 0.0
        head = [
            f"evidence verification of {self.target}: {'INTACT' if self.ok else 'BROKEN'}",
            f"  public key {self.key_fingerprint} ({self.key_source})",
            f"  {self.objects_checked} objects re-hashed, {self.records_checked} ledger records "
            f"checked ({rate:,.0f}/s), {self.signatures_verified} entry signatures verified "
            f"individually, {self.records_under_seal} covered by {self.segments_checked} "
            f"verified segment seals, {self.manifests_checked} manifests compared",
        ]
        head += [f"  note: {n}" for n in self.notes]
        head += [f"  BROKEN {p.line()}" for p in self.problems]
        return "\n".join(head)
