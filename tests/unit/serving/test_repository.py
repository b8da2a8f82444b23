"""Model repository on disk: listing, missing files, verified installs, the committed charset."""

from __future__ import annotations

import shutil
from pathlib import Path

import onnx
import pytest

from kouan.errors import KouanError
from serving import ppocr
from serving.bundled import prepare_repository
from serving.repository import (
    copy_verified,
    default_repository,
    missing_model_files,
    model_filename,
    model_names,
    sha256_file,
    versions,
)
from tests.fixtures.triton import write_tiny_model


def test_listing_and_missing_files(tmp_path: Path) -> None:
    write_tiny_model(tmp_path, "a")
    write_tiny_model(tmp_path, "b")
    (tmp_path / "b" / "3").mkdir()  # newest version has no model file
    (tmp_path / "notes").mkdir()  # not a model: no config.pbtxt
    assert model_names(tmp_path) == ["a", "b"]
    assert versions(tmp_path / "b") == [1, 3]
    assert model_filename(tmp_path / "a") == "model.onnx"
    assert missing_model_files(tmp_path) == [tmp_path / "b" / "3" / "model.onnx"]


def test_missing_repository_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        model_names(tmp_path / "nope")


def test_copy_verified(tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(b"weights")
    digest = sha256_file(src)
    target = tmp_path / "repo" / "m" / "1" / "model.onnx"
    assert copy_verified(src, target, digest) == target
    assert target.read_bytes() == b"weights" and oct(target.stat().st_mode & 0o777) == "0o644"
    src.write_bytes(b"tampered")
    assert copy_verified(src, target, digest) == target  # already in place: not re-copied
    target.unlink()
    with pytest.raises(ValueError, match="sha256"):
        copy_verified(src, target, digest)
    assert not target.exists() and list(target.parent.iterdir()) == []


def test_committed_charset_is_the_models_own_metadata() -> None:
    model = onnx.load(str(ppocr.rapidocr_source()), load_external_data=False)
    meta = {p.key: p.value for p in model.metadata_props}
    assert ppocr.read_dictionary(ppocr.charset_path()) == meta["character"].splitlines()
    charset = ppocr.load_charset()
    assert len(charset) == ppocr.NUM_CLASSES
    assert charset[-1] == " " and "皖" in charset and "\u3000" in charset


def test_prepare_repository_installs_bundled_weights(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(default_repository() / ppocr.MODEL_NAME, repo / ppocr.MODEL_NAME,
                    ignore=shutil.ignore_patterns("model.onnx"))
    assert missing_model_files(repo) == [repo / "ppocr_rec" / "1" / "model.onnx"]
    assert prepare_repository(repo) == repo.resolve()
    assert missing_model_files(repo) == []
    assert sha256_file(repo / "ppocr_rec" / "1" / "model.onnx") == ppocr.RAPIDOCR_SHA256


def test_prepare_repository_names_files_nobody_can_install(tmp_path: Path) -> None:
    write_tiny_model(tmp_path, "trained")
    (tmp_path / "trained" / "1" / "model.onnx").unlink()
    with pytest.raises(KouanError, match="trained/1/model.onnx"):
        prepare_repository(tmp_path)


def test_install_rejects_a_different_file(tmp_path: Path) -> None:
    other = tmp_path / "other.onnx"
    other.write_bytes(b"not the pinned model")
    with pytest.raises(ValueError, match="sha256"):
        ppocr.install_ppocr_rec(tmp_path, source=other)
