"""``kouan queue`` and ``kouan bus`` end to end on the embedded backends (in-process CLI)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kouan.cli.main import main
from kouan.cli.queue import parse_duration


def _finding_file(tmp_path: Path, fid: str = "fnd-cli-1") -> Path:
    p = tmp_path / f"{fid}.json"
    p.write_text(json.dumps({
        "id": fid, "case_id": "psg-cli", "type": "threat", "severity": "critical",
        "explanation": "knife-like object", "port_id": "ERENHOT", "lane_id": "lane-03",
        "modality": "xray_dual_energy"}))
    return p


def _json(capsys: pytest.CaptureFixture[str]) -> Any:
    return json.loads(capsys.readouterr().out)


def test_submit_relay_consume_claim_decide(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    f = _finding_file(tmp_path)
    assert main(["queue", "submit", str(f), "--alarm"]) == 0
    assert main(["queue", "submit", str(f), "--alarm"]) == 0  # idempotent retry
    out = capsys.readouterr().out.splitlines()
    assert out[0] == out[1] and "alarm alm-" in out[0]

    assert main(["bus", "status", "--json"]) == 0
    st = _json(capsys)
    assert st["backend"] == "embedded" and "1 alarm(s) waiting" in st["detail"]
    assert main(["bus", "relay", "--once"]) == 0
    assert "published 1" in capsys.readouterr().out
    assert main(["bus", "consume", "--consumer", "gate", "--count", "1"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["alarm"]["finding_id"] == "fnd-cli-1"
    assert line["subject"] == "kouan.alarms.ERENHOT.lane-03.critical"

    assert main(["queue", "claim", "--reviewer", "ana", "--lease", "2m", "--json"]) == 0
    [entry] = _json(capsys)
    item_id = entry["item"]["id"]
    assert entry["item"]["claimed_by"] == "ana"
    assert main(["queue", "decide", item_id, "--reviewer", "bo", "--decision", "confirm"]) == 1
    assert "must be claimed by bo" in capsys.readouterr().err
    assert main(["queue", "decide", item_id, "--reviewer", "ana", "--decision", "dismiss",
                 "--reason", "benign"]) == 0
    assert capsys.readouterr().out.strip() == f"{item_id}: dismissed by ana"
    assert main(["queue", "show", item_id, "--json"]) == 0
    shown = _json(capsys)
    assert shown["item"]["status"] == "dismissed" and shown["decision"] == "dismiss"
    assert [h["action"] for h in shown["history"]] == ["queued", "claimed", "decided"]
    assert main(["queue", "list", "--status", "dismissed", "--json"]) == 0
    assert [e["item"]["id"] for e in _json(capsys)] == [item_id]


@pytest.mark.parametrize("argv", [
    ["queue", "list", "--status", "bogus"],
    ["queue", "list", "--older-than", "5x"],
    ["queue", "list", "--order", "random"],
    ["queue", "show", "rev-nope"],
    ["queue", "claim", "rev-nope", "--reviewer", "ana"],
    ["queue", "decide", "rev-nope", "--reviewer", "ana", "--decision", "approve"],
    ["queue", "submit", "/nonexistent.json"],
    ["bus", "consume", "--consumer", "bad name"],
])
def test_bad_input_exits_2_with_one_line(argv: list[str],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip()


def test_invalid_finding_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "bad.json"
    p.write_text(json.dumps({"id": "fnd-1", "severity": "apocalyptic"}))
    assert main(["queue", "submit", str(p)]) == 2
    assert "not a valid Finding" in capsys.readouterr().err


def test_bus_status_fails_when_nats_is_unreachable(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from tests.fixtures.nats import free_port

    monkeypatch.setenv("KOUAN_BUS_URL", f"nats://127.0.0.1:{free_port()}")
    assert main(["bus", "status"]) == 1
    assert "cannot reach NATS" in capsys.readouterr().out


def test_parse_duration() -> None:
    assert [parse_duration(x).total_seconds() for x in ("90s", "10m", "2h", "1d", "0.5m")] == [
        90, 600, 7200, 86400, 30]
