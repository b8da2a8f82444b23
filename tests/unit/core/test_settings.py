from __future__ import annotations

from pathlib import Path

import pytest

from kouan.config import SettingsError, get_settings, load_settings


def test_embedded_defaults_resolve_under_data_dir(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOUAN_DATA_DIR", str(tmp_path))
    s = load_settings()
    assert s.triton_url is None and s.bus_url is None
    assert s.resolved_db_url == f"sqlite:///{tmp_path / 'kouan.db'}"
    assert s.resolved_evidence_url == f"file://{tmp_path / 'evidence'}"
    assert s.resolved_signing_key_file == tmp_path / "keys" / "ledger_ed25519.pem"


def test_external_services_are_read_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOUAN_TRITON_URL", "grpc://10.0.0.5:8001")
    monkeypatch.setenv("KOUAN_BUS_URL", "nats://10.0.0.6:4222")
    monkeypatch.setenv("KOUAN_EVIDENCE_URL", "s3://10.0.0.7:9000/evidence")
    monkeypatch.setenv("RAY_ADDRESS", "ray://head:10001")
    s = load_settings()
    assert (s.triton_url, s.bus_url, s.ray_address) == (
        "grpc://10.0.0.5:8001", "nats://10.0.0.6:4222", "ray://head:10001")
    assert s.resolved_evidence_url == "s3://10.0.0.7:9000/evidence"


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("KOUAN_TRITON_URL", "localhost:8001", "KOUAN_TRITON_URL"),
        ("KOUAN_BUS_URL", "amqp://x", "nats://"),
        ("KOUAN_EVIDENCE_URL", "/tmp/x", "s3://"),
        ("KOUAN_API_PORT", "99999", "KOUAN_API_PORT"),
        ("KOUAN_LOG_LEVEL", "LOUD", "KOUAN_LOG_LEVEL"),
        ("KOUAN_TRITON_ULR", "grpc://x:1", "unknown setting"),
    ],
)
def test_bad_values_give_one_clear_error(monkeypatch: pytest.MonkeyPatch, name: str, value: str,
                                         needle: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert needle in str(err.value)
    assert "\n" not in str(err.value)


def test_get_settings_is_cached_and_not_built_at_import() -> None:
    import kouan.config as cfg

    cfg.get_settings.cache_clear()
    assert cfg.get_settings.cache_info().currsize == 0
    assert get_settings() is get_settings()
