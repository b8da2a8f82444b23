from __future__ import annotations

import json

import pytest

from kouan.cli.main import main


def test_token_create_prints_a_token(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "create", "--role", "reviewer"]) == 0
    assert capsys.readouterr().out.strip().startswith("kouan_")


def test_unknown_role_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "create", "--role", "janitor"]) == 2
    assert "unknown role" in capsys.readouterr().err


def test_bad_setting_exits_2_without_traceback(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KOUAN_API_PORT", "http")
    assert main(["doctor"]) == 2
    err = capsys.readouterr().err
    assert "KOUAN_API_PORT" in err and "Traceback" not in err


def test_unknown_command_exits_2() -> None:
    assert main(["frobnicate"]) == 2


def test_doctor_reports_embedded_backends(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["component"] for r in rows} >= {"database", "ray"}
    assert all(r["backend"] == "embedded" and r["ok"] for r in rows)


def test_doctor_fails_on_unreachable_external_service(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KOUAN_DB_URL", "postgresql+psycopg://postgres@127.0.0.1:1/none")
    assert main(["doctor", "--json"]) == 1
    rows = {r["component"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["database"]["backend"] == "external" and not rows["database"]["ok"]
