"""Write scan results to the review queue (+ alarms) and the evidence store, idempotently.

Per scan (case id ``scan-<sha256 prefix>`` from the capture's bytes):

1. the capture goes to evidence (``capture_stored``; unreadable files with their reason in
   the capture meta, ``quarantined: true``), the reviewer picture (CT MIP) as an object;
2. the model or rule output as an ``inference`` record (model name and version);
3. each finding (ids derived from the content hash) to :meth:`ReviewQueue.submit_finding`,
   raising an alarm for severity high or above.

Re-ingesting the same bytes finds the case's ledger entries and skips steps 1-2; step 3 is
idempotent on the finding id. So nothing is duplicated.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kouan.domain import EvidenceEvent, Finding, Severity
from kouan.evidence.errors import UnknownCase
from kouan.services import Services
from pipelines.scan.analyze import ScanResult

log = logging.getLogger(__name__)
RULES_MODEL = {"cargo": ("cargo_rules", "1"), "ct": ("ct_segment", "1")}


@dataclass
class SinkReport:
    scans: int = 0
    new_cases: int = 0
    skipped_known: int = 0
    findings: int = 0
    alarms: int = 0
    unreadable: int = 0
    by_type: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _known(services: Services, case_id: str) -> set[str]:
    """Ledger events already recorded for the case ('' if none)."""
    try:
        records = services.evidence.case(case_id)["records"]
    except UnknownCase:
        return set()
    return {str(r.event) for r in records}


def _model_of(res: ScanResult) -> tuple[str, str] | None:
    if res.model:
        return res.model
    if "load" in res.extra:
        return RULES_MODEL["cargo"]
    if "ct_objects" in res.extra:
        return RULES_MODEL["ct"]
    return None


def write_result(services: Services, res: ScanResult, report: SinkReport) -> None:
    case = res.case_id
    known = _known(services, case)
    report.scans += 1
    evidence_shas: list[str] = []
    if res.capture:
        if EvidenceEvent.CAPTURE_STORED.value in known:
            from hashlib import sha256

            evidence_shas.append(sha256(res.capture).hexdigest())
        else:
            meta: dict[str, Any] = {"file": ", ".join(p.name for p in res.ref.paths),
                                    "modality": res.modality}
            if res.error:
                meta.update(quarantined=True, reason=res.error[:500])
            evidence_shas.append(services.evidence.put_capture(case, res.capture,
                                                               res.media_type, meta))
    if res.reviewer_png:
        evidence_shas.append(services.evidence.put_object(res.reviewer_png))
    model = _model_of(res)
    if known:
        report.skipped_known += 1
    else:
        report.new_cases += 1
        if model and evidence_shas and not res.error:
            out = res.to_json()
            out.pop("file", None)
            services.evidence.record_inference(case, model[0], model[1], evidence_shas[0],
                                               out)
    if res.error:
        report.unreadable += 1
    for f in res.findings:
        f2 = f.model_copy(update={"evidence": evidence_shas}) if evidence_shas else f
        Finding.model_validate(f2.model_dump())
        _, alarm = services.queue.submit_finding(f2,
                                                 raise_alarm=f2.severity.rank
                                                 >= Severity.HIGH.rank)
        report.findings += 1
        report.alarms += int(alarm is not None)
        report.by_type[f2.type.value] = report.by_type.get(f2.type.value, 0) + 1


def write_results(services: Services, results: Iterable[ScanResult]) -> SinkReport:
    report = SinkReport()
    for res in results:
        write_result(services, res, report)
    return report
