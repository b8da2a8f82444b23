"""Exported bundles: intact ones verify; every kind of tampering is named; junk is exit 2."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kouan.cli.main import main
from kouan.evidence.errors import MalformedLedger
from kouan.evidence.keys import encode_signature
from kouan.evidence.layout import object_key
from kouan.services import Services
from tests.unit.evidence.helpers import populate

Members = dict[str, bytes]


def _lines(m: Members) -> list[bytes]:
    return m["ledger.jsonl"].rstrip(b"\n").split(b"\n")


def _set_lines(m: Members, lines: list[bytes]) -> None:
    m["ledger.jsonl"] = b"\n".join(lines) + b"\n"


def _edit(m: Members, idx: int, fn: Callable[[dict[str, Any]], None]) -> None:
    lines = _lines(m)
    obj = json.loads(lines[idx])
    fn(obj)
    lines[idx] = json.dumps(obj).encode()
    _set_lines(m, lines)


def _seq(m: Members, idx: int) -> int:
    return int(json.loads(_lines(m)[idx])["seq"])


def _first_object(m: Members) -> str:
    return sorted(k for k in m if k.startswith("objects/"))[0]


def t_flipped_byte(m: Members) -> str:
    key = _first_object(m)
    m[key] = bytes([m[key][0] ^ 1]) + m[key][1:]
    return f"object {key}"


def t_deleted_object(m: Members) -> str:
    key = _first_object(m)
    del m[key]
    return f"object {key}"


def t_edited_entry(m: Members) -> str:
    _edit(m, 1, lambda o: o["payload"].update(model={"name": "other", "version": "9"}))
    return f"ledger seq {_seq(m, 1)}"


def t_deleted_entry(m: Members) -> str:
    seq = _seq(m, 2)
    _set_lines(m, [ln for i, ln in enumerate(_lines(m)) if i != 2])
    return f"ledger seq {seq}"


def t_reordered(m: Members) -> str:
    lines = _lines(m)
    lines[1], lines[2] = lines[2], lines[1]
    _set_lines(m, lines)
    return f"ledger seq {_seq(m, 2)}"


def t_replayed(m: Members) -> str:
    lines = _lines(m)
    _set_lines(m, [*lines, lines[0]])
    return f"ledger seq {_seq(m, 0)}"


def t_forged_signature(m: Members) -> str:
    key = Ed25519PrivateKey.generate()
    _edit(m, 3, lambda o: o.update(
        signature=encode_signature(key.sign(bytes.fromhex(o["entry_hash"])))))
    return f"ledger seq {_seq(m, 3)}"


def t_swapped_public_key(m: Members) -> str:
    from kouan.evidence.keys import public_key_pem

    m["public_key.pem"] = public_key_pem(Ed25519PrivateKey.generate().public_key())
    return "bundle member public_key.pem"


BUNDLE_TAMPERS = {f.__name__[2:]: f for f in (
    t_flipped_byte, t_deleted_object, t_edited_entry, t_deleted_entry, t_reordered,
    t_replayed, t_forged_signature, t_swapped_public_key)}


@pytest.fixture
def bundle(services: Services, tmp_path: Path) -> Path:
    populate(services.evidence, cases=2, captures=2)
    out = tmp_path / "bundle.zip"
    report = services.evidence.export("psg-1", out)
    assert report.ok, report.text()
    return out


def _rewrite(path: Path, fn: Callable[[Members], str]) -> str:
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    expected = fn(members)
    path.unlink()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return expected


def test_bundle_contents_and_cli_verify(bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with zipfile.ZipFile(bundle) as z:
        names = set(z.namelist())
        assert {"manifest.json", "ledger.jsonl", "public_key.pem", "statement.json",
                "verification.json"} <= names
        assert json.loads(z.read("verification.json"))["ok"] is True
        manifest = json.loads(z.read("manifest.json"))
    assert manifest["case_id"] == "psg-1" and len(manifest["objects"]) == 4
    assert all(o["key"] in names for o in manifest["objects"])
    assert main(["evidence", "verify", "--bundle", str(bundle)]) == 0
    assert "INTACT" in capsys.readouterr().out


@pytest.mark.parametrize("kind", sorted(BUNDLE_TAMPERS))
def test_bundle_tampering_is_named(bundle: Path, kind: str, services: Services,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    expected = _rewrite(bundle, BUNDLE_TAMPERS[kind])
    report = services.evidence.verify_bundle(bundle)
    assert not report.ok
    assert expected in {p.where for p in report.problems}, report.text()
    assert main(["evidence", "verify", "--bundle", str(bundle)]) == 1
    assert expected in capsys.readouterr().out


def test_raw_byte_flip_in_zip_is_named(bundle: Path, services: Services) -> None:
    data = bytearray(bundle.read_bytes())
    with zipfile.ZipFile(bundle) as z:
        info = z.getinfo(sorted(n for n in z.namelist() if n.startswith("objects/"))[0])
    data[info.header_offset + 30 + len(info.filename) + 2] ^= 0xFF  # inside the stored data
    bundle.write_bytes(bytes(data))
    report = services.evidence.verify_bundle(bundle)
    assert f"bundle member {info.filename}" in {p.where for p in report.problems}


@pytest.mark.parametrize("make", [
    lambda p: p.write_bytes(b"not a zip"),
    lambda p: zipfile.ZipFile(p, "w").close(),
    lambda p: _zip_without_ledger(p),
])
def test_malformed_bundles_exit_2(tmp_path: Path, make, services: Services) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "junk.zip"
    make(path)
    with pytest.raises(MalformedLedger):
        services.evidence.verify_bundle(path)
    assert main(["evidence", "verify", "--bundle", str(path)]) == 2
    assert main(["evidence", "verify", "--bundle", str(tmp_path / "absent.zip")]) == 2


def _zip_without_ledger(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("manifest.json", "{}")


def test_export_of_unknown_case_or_existing_file_is_exit_2(bundle: Path, tmp_path: Path) -> None:
    assert main(["evidence", "export", "nope", "--out", str(tmp_path / "x.zip")]) == 2
    assert main(["evidence", "export", "psg-1", "--out", str(bundle)]) == 2
    assert main(["evidence", "export", "psg-1", "--out", str(tmp_path / "no" / "x.zip")]) == 2
    assert not (tmp_path / "x.zip").exists()


def test_object_key_in_manifest_matches_layout(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as z:
        for o in json.loads(z.read("manifest.json"))["objects"]:
            assert o["key"] == object_key(o["sha256"])


def test_export_with_an_object_gone_from_the_store_names_it(services: Services,
                                                            tmp_path: Path) -> None:
    from tests.unit.evidence.helpers import local_store_of, raw_delete

    pop = populate(services.evidence, cases=1, captures=2)
    gone = object_key(pop.captures["psg-0"][1])
    raw_delete(local_store_of(services.evidence), gone)
    out = tmp_path / "b.zip"
    assert main(["evidence", "export", "psg-0", "--out", str(out)]) == 1
    report = services.evidence.verify_bundle(out)
    assert f"object {gone}" in {p.where for p in report.problems}
