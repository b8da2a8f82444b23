"""Subject and topic names on the alarm bus."""

from __future__ import annotations

import pytest

from kouan.bus.subjects import alarm_subject, check_consumer_name, mqtt_topic, subject_token
from kouan.domain import Alarm, FindingType, Severity


@pytest.mark.parametrize(("port", "lane", "severity", "subject"), [
    ("ERENHOT", "lane-03", Severity.HIGH, "kouan.alarms.ERENHOT.lane-03.high"),
    ("ERENHOT", None, Severity.INFO, "kouan.alarms.ERENHOT.none.info"),
    ("MZL.east", "rail:2.b", Severity.CRITICAL, "kouan.alarms.MZL_east.rail:2_b.critical"),
])
def test_alarm_subject(port: str, lane: str | None, severity: Severity, subject: str) -> None:
    alarm = Alarm(finding_id="fnd-1", port_id=port, lane_id=lane, severity=severity,
                  type=FindingType.THREAT, summary="x")
    assert alarm_subject(alarm) == subject
    assert len(subject.split(".")) == 5
    assert mqtt_topic(subject) == subject.replace(".", "/")


def test_bad_names_are_rejected() -> None:
    with pytest.raises(ValueError):
        subject_token("")
    with pytest.raises(ValueError, match="not an alarm subject"):
        mqtt_topic("other.subject")
    for bad in ("", "has space", "a.b", "x" * 65):
        with pytest.raises(ValueError, match="consumer name"):
            check_consumer_name(bad)
    assert check_consumer_name("command-centre") == "command-centre"
