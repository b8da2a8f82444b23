"""`kouan models`: listing, installing into a given repository, bad input exits 2."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kouan.cli.main import main
from serving import ppocr
from serving.repository import default_repository, missing_model_files


def test_list_shows_the_committed_models(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert ppocr.MODEL_NAME in out and "onnxruntime" in out


def test_install_fills_a_copied_repository(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(default_repository() / ppocr.MODEL_NAME, repo / ppocr.MODEL_NAME,
                    ignore=shutil.ignore_patterns("model.onnx"))
    assert main(["models", "list", "--repo", str(repo)]) == 0
    assert "missing: ppocr_rec/1/model.onnx" in capsys.readouterr().out
    assert main(["models", "install", "--repo", str(repo)]) == 0
    assert missing_model_files(repo) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["models", "list", "--repo", "/nonexistent/repo"],
        ["models", "ocr", "/nonexistent/crop.jpg"],
    ],
)
def test_bad_paths_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "error:" in capsys.readouterr().err


def test_ocr_rejects_a_file_that_is_not_an_image(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "crop.jpg"
    bogus.write_text("not an image")
    assert main(["models", "ocr", str(bogus)]) == 2
    assert "not a readable image" in capsys.readouterr().err
