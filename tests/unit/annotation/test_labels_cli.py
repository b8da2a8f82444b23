"""``kouan labels export/import``: reviewed boxes out as COCO/YOLO and back in from CVAT or
Label Studio files; bad files exit 2 and write nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import pytest
from pycocotools.coco import COCO

from annotation.boxes import LabelBox
from annotation.label_store import LabelStore
from datasets.scan_io import load_dual_energy
from kouan.cli.main import main
from kouan.domain import ReviewDecision
from kouan.services import Services
from tests.fixtures.review import Scan, submit_scan


def _decide(services: Services, scan: Scan, decision: ReviewDecision) -> None:
    services.queue.claim(scan.item_id, "ana")
    services.queue.decide(scan.item_id, "ana", decision, "x")


@pytest.fixture
def decided(services: Services) -> dict[str, Scan]:
    """confirmed+corrected, confirmed as-is, dismissed, escalated and still queued items."""
    scans = {k: submit_scan(services) for k in
             ("corrected", "kept", "dismissed", "escalated", "queued")}
    store = LabelStore(services.sessions)
    s = scans["corrected"]
    store.save(s.item_id, s.image, [LabelBox(label="knife", box=(41, 29, 82, 61)),
                                     LabelBox(label="handgun", box=(5, 5, 25, 20))],
               author="ana", source="reviewer", base_revision=0, width=128, height=96)
    _decide(services, s, ReviewDecision.CONFIRM)
    _decide(services, scans["kept"], ReviewDecision.CONFIRM)
    _decide(services, scans["dismissed"], ReviewDecision.DISMISS)
    _decide(services, scans["escalated"], ReviewDecision.ESCALATE)
    return scans


def test_coco_export(tmp_path: Path, decided: dict[str, Scan],
                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "coco"
    assert main(["labels", "export", "--format", "coco", "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["images"], summary["boxes"], summary["negatives"]) == (3, 3, 1)
    coco = COCO(str(out / "annotations.json"))
    by_item = {im["kouan_item_id"]: im for im in coco.dataset["images"]}
    assert set(by_item) == {decided[k].item_id for k in ("corrected", "kept", "dismissed")}
    im = by_item[decided["corrected"].item_id]
    anns = coco.loadAnns(coco.getAnnIds(imgIds=[im["id"]]))
    names = {c["id"]: c["name"] for c in coco.dataset["categories"]}
    assert sorted((names[a["category_id"]], a["bbox"]) for a in anns) == [
        ("handgun", [5.0, 5.0, 20.0, 15.0]), ("knife", [41.0, 29.0, 41.0, 32.0])]
    kept = coco.loadAnns(coco.getAnnIds(imgIds=[by_item[decided["kept"].item_id]["id"]]))
    assert [(a["bbox"], a["attributes"]["origin"]) for a in kept] == [([40.0, 30.0, 40.0, 30.0],
                                                                       "model")]
    png = cv2.imread(str(out / im["file_name"]), cv2.IMREAD_UNCHANGED)
    assert png.shape == (96, 128, 3) and im["file_name"] == f"images/{im['sha256']}.png"
    raw = cv2.imread(str(out / im["raw_high"]), cv2.IMREAD_UNCHANGED)
    assert raw.dtype == "uint16" and raw.shape == (96, 128) and im["raw_encoding"] == "linear"
    low, high = load_dual_energy(out / im["raw_low"], out / im["raw_high"], "linear")
    assert low.shape == high.shape == (96, 128)
    # exporting again into the same directory needs --overwrite
    assert main(["labels", "export", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["labels", "export", "--out", str(out), "--overwrite"]) == 0


def test_yolo_export(tmp_path: Path, decided: dict[str, Scan]) -> None:
    out = tmp_path / "yolo"
    assert main(["labels", "export", "--format", "yolo", "--out", str(out)]) == 0
    classes = (out / "classes.txt").read_text().split()
    assert classes == ["handgun", "knife"]
    lines = (out / f"labels/{decided['corrected'].image}.txt").read_text().splitlines()
    cls, cx, cy, w, h = lines[sorted(lines).index(sorted(lines)[1])].split()
    row = {ln.split()[0]: [float(v) for v in ln.split()[1:]] for ln in lines}
    assert row[str(classes.index("knife"))] == pytest.approx([61.5 / 128, 45 / 96, 41 / 128,
                                                              32 / 96], abs=1e-5)
    assert (out / f"labels/{decided['dismissed'].image}.txt").read_text() == ""
    assert "nc: 2" in (out / "data.yaml").read_text()
    del cls, cx, cy, w, h


@pytest.mark.parametrize("args", [
    ["labels", "export", "--format", "voc", "--out", "x"],
    ["labels", "export", "--out", "x", "--status", "queued"],
    ["labels", "export", "--out", "x", "--status", "approved"],
])
def test_bad_export_arguments(args: list[str], tmp_path: Path) -> None:
    args = [a if a != "x" else str(tmp_path / "x") for a in args]
    assert main(args) == 2


def _exported(tmp_path: Path) -> tuple[Path, dict]:  # type: ignore[type-arg]
    out = tmp_path / "coco"
    assert main(["labels", "export", "--out", str(out)]) == 0
    return out, json.loads((out / "annotations.json").read_text())


def test_import_cvat_and_label_studio_files(tmp_path: Path, services: Services,
                                            decided: dict[str, Scan],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = _exported(tmp_path)
    target = decided["dismissed"]
    im = next(i for i in doc["images"] if i["sha256"] == target.image)
    # a CVAT export keeps file names but drops our extra fields
    cvat = {"images": [{"id": 7, "file_name": im["file_name"], "width": 128, "height": 96}],
            "annotations": [{"id": 1, "image_id": 7, "category_id": 3,
                             "bbox": [10, 12, 30, 20.5]}],
            "categories": [{"id": 3, "name": "gun part"}]}
    f = tmp_path / "cvat.json"
    f.write_text(json.dumps(cvat))
    assert main(["labels", "import", str(f)]) == 0
    assert "imported 1 boxes on 1 images" in capsys.readouterr().out
    [cur] = LabelStore(services.sessions).current(target.item_id).values()
    assert (cur.revision, cur.source, cur.author) == (1, "import", "import:cvat.json")
    assert [(b.label, b.box, b.origin) for b in cur.boxes] == [
        ("gun_part", (10.0, 12.0, 40.0, 32.5), "import")]
    # Label Studio prefixes uploads with 8 hex and a dash; an unknown image is reported
    ls = {"images": [{"id": 1, "file_name": f"../upload/1/0a1b2c3d-{target.image}.png"},
                     {"id": 2, "file_name": "holiday.jpg"}],
          "annotations": [], "categories": [{"id": 0, "name": "knife"}]}
    f2 = tmp_path / "ls.json"
    f2.write_text(json.dumps(ls))
    assert main(["labels", "import", str(f2)]) == 0
    assert "holiday.jpg" in capsys.readouterr().err
    [cur] = LabelStore(services.sessions).current(target.item_id).values()
    assert cur.revision == 2 and cur.boxes == []


@pytest.mark.parametrize(("mutate", "reason"), [
    (lambda d: d["annotations"][0].update(bbox=[10, 10, -5, 5]), "negative or zero size"),
    (lambda d: d["annotations"][0].update(bbox=[120, 10, 20, 5]), "outside the 128 x 96"),
    (lambda d: d["annotations"][0].update(bbox="10,10,5,5"), "bbox must be"),
    (lambda d: d["annotations"][0].update(category_id=99), "unknown category_id 99"),
    (lambda d: d.pop("categories"), "not COCO"),
    (lambda d: d["images"][0].update(id="one"), "must be an integer"),
    (lambda d: [im.update(file_name="x.png", kouan_item_id=None, sha256=None)
                for im in d["images"]],
     "no image"),
])
def test_bad_imports_exit_2_and_write_nothing(tmp_path: Path, services: Services,
                                              decided: dict[str, Scan],
                                              mutate: Callable[[dict[str, Any]], object],
                                              reason: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = _exported(tmp_path)
    mutate(doc)
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(doc))
    before = LabelStore(services.sessions).current_many(s.item_id for s in decided.values())
    capsys.readouterr()
    assert main(["labels", "import", str(f)]) == 2
    assert reason in capsys.readouterr().err
    after = LabelStore(services.sessions).current_many(s.item_id for s in decided.values())
    assert {k: {i: v.revision for i, v in d.items()} for k, d in after.items()} == \
        {k: {i: v.revision for i, v in d.items()} for k, d in before.items()}


def test_import_not_json(tmp_path: Path, decided: dict[str, Scan],
                         capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "x.json"
    f.write_text("{not json")
    assert main(["labels", "import", str(f)]) == 2
    assert "not JSON" in capsys.readouterr().err
    assert main(["labels", "import", str(tmp_path / "missing.json")]) == 2
