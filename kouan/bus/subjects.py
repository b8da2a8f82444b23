"""Names on the alarm bus: stream, subjects, consumers, MQTT topics.

Subject layout: ``kouan.alarms.<port>.<lane|none>.<severity>``, e.g.
``kouan.alarms.ERENHOT.lane-03.high``, so a gate system subscribes to its own lane
(``kouan.alarms.ERENHOT.lane-03.>``) and a command centre to everything at or above a
severity. Domain ids may contain ``.``, which NATS uses as the token separator, so ``.`` in
an id becomes ``_`` in the subject (the payload always carries the exact ids).
"""

from __future__ import annotations

import re

from kouan.domain import Alarm

STREAM = "KOUAN_ALARMS"
SUBJECT_PREFIX = "kouan.alarms"
SUBJECT_WILDCARD = SUBJECT_PREFIX + ".>"
MQTT_PREFIX = "kouan/alarms"

GATE = "gate"
COMMAND_CENTRE = "command-centre"
DEFAULT_CONSUMERS: tuple[str, ...] = (GATE, COMMAND_CENTRE)

_CONSUMER_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def subject_token(value: str | None) -> str:
    """One NATS subject token for a domain id (``None`` -> ``none``)."""
    if value is None:
        return "none"
    if not value:
        raise ValueError("empty subject token")
    return value.replace(".", "_")


def alarm_subject(alarm: Alarm) -> str:
    """``kouan.alarms.<port>.<lane|none>.<severity>`` for ``alarm``."""
    return ".".join((SUBJECT_PREFIX, subject_token(alarm.port_id), subject_token(alarm.lane_id),
                     alarm.severity.value))


def mqtt_topic(subject: str) -> str:
    """The MQTT topic for a bus subject: ``kouan.alarms.P.L.S`` -> ``kouan/alarms/P/L/S``."""
    if not subject.startswith(SUBJECT_PREFIX + "."):
        raise ValueError(f"not an alarm subject: {subject!r}")
    return subject.replace(".", "/")


def check_consumer_name(name: str) -> str:
    """Consumer (durable) names: 1-64 of ``A-Z a-z 0-9 _ -``; raise ``ValueError`` otherwise."""
    if not _CONSUMER_RE.match(name):
        raise ValueError(f"consumer name {name!r} must be 1-64 characters of A-Z a-z 0-9 _ -")
    return name
