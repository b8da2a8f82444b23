"""Smart gate: accuracy on the real plate / container sets and passage latency, our pipeline
(embedded Triton) side by side with plain ``rapidocr`` on the whole image.

Run: ``.venv/bin/python bench/bench_gate.py [--realdata ../shared/realdata] [--passages 20]``
(about 5-10 minutes on 2 busy cores) -> ``bench/results/gate.json``.

Sets (``realdata``):
- ``plates_cn/ccpd`` (17 scene photos; text + corners from the CCPD file names): ours end to end
  (find + read), ours on the ground-truth corners (recogniser + grammar only), baseline;
- ``plates_cn/lprnet_crops`` (26 plate crops): ours, baseline;
- ``plates_cn/mongolian`` (14 photos; VOC plate box): ours end to end, ours on the ground-truth
  box, baseline (PP-OCR has no Cyrillic, so it cannot succeed; listed for completeness);
- ``containers`` (15 photos, 24 codes): ours, baseline.

Scoring is exact match of the whole plate / code. The baseline is given every chance: a plate
counts as read when its text (separators removed) appears anywhere in the concatenated
rapidocr output, a code when the code appears there. A 10-character ground truth (check digit
not visible) counts as read when our 11-character code starts with it.

Exact match is stricter than what the gate decides: each plate row also says what the passage
matching (:func:`vision.ocr_match.compare`, confusion- and confidence-aware) would conclude had
the true plate been declared (``if_declared``, should be ``match``) and had another file's
plate been declared (``if_other_declared``, must never be ``match``).

Containers are read twice: ``containers`` in the exhaustive mode of ``kouan containers read``
(small-text tiles for stacks), ``containers_fast`` in the fast mode of passages.

Pictures: ``docs/images/gate_plates.png`` and ``gate_containers.png`` (contact sheets of our
reads on every real image, wrong ones in red; containers in the exhaustive mode).

Latency: ``PassagePipeline.run`` (evidence + matching + queue included) on SQLite in a temp
data dir, for passages of one plate photo (CCPD) and for passages of one plate photo plus one
gate-camera container photo (960x540); p50/p90/p99 over ``--passages`` runs after one warm-up,
with the load average before and after each variant (the machine is shared) and the CPU time
per passage of this process plus the Triton server and its stubs (``cpu_ms_per_passage``, all
cores together: the work, whatever the load).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from kouan.realdata import realdata_dir

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gate_contact import GateTile, contact_sheet  # bench/ is not a package

ROOT = Path(__file__).resolve().parents[1]
Img = npt.NDArray[np.uint8]
sys.path.insert(0, str(ROOT))


def _machine() -> dict[str, Any]:
    from importlib.metadata import version

    return {"cpu_count": os.cpu_count(), "load_average_1_5_15": os.getloadavg(),
            "python": platform.python_version(), "platform": platform.platform(),
            "onnxruntime": version("onnxruntime"), "rapidocr": version("rapidocr"),
            "opencv": cv2.__version__, "numpy": np.__version__}


def _read(path: Path) -> Img:
    img = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise SystemExit(f"cannot read {path}")
    return np.asarray(img, np.uint8)


def _norm(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def _timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn(*args)
    return out, (time.perf_counter() - t) * 1000.0


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ms = [r["ms"] for r in rows]
    out = {"n": len(rows), "exact": sum(r["ok"] for r in rows),
           "accuracy": round(sum(r["ok"] for r in rows) / max(1, len(rows)), 4),
           "ms_p50": round(statistics.median(ms), 1) if ms else None,
           "ms_mean": round(statistics.fmean(ms), 1) if ms else None}
    for key in ("if_declared", "if_other_declared"):
        if rows and key in rows[0]:
            outcomes = [r[key] for r in rows]
            out[key] = {o: outcomes.count(o) for o in ("match", "unreadable", "mismatch")}
    return out


def _if_declared(truth: str, found: list[Any]) -> str:
    """Gate outcome had the truth been declared: the reading against it with the
    confusion- and confidence-aware comparison the passage uses (a wrong character read with
    low confidence can still be a probable match; a confident one is a mismatch)."""
    from vision.ocr_match import compare

    if not found:
        return "unreadable"
    r = found[0].reading
    return str(compare(truth, r.text, r.char_conf, what="plate").outcome.value)


def plate_sets(realdata: Path) -> dict[str, list[tuple[str, Img, str, Any]]]:
    """``{set: [(file, image, truth, extra)]}``; extra = CCPD corners / MN box / None."""
    from vision.plates.ccpd import parse_ccpd_name

    pdir = realdata / "plates_cn"
    labels = json.loads((pdir / "labels.json").read_text(encoding="utf-8"))["files"]
    sets: dict[str, list[tuple[str, Img, str, Any]]] = {"ccpd": [], "lprnet_crops": [],
                                                                 "mongolian": []}
    for name, lab in sorted(labels.items()):
        kind = name.split("/")[0]
        if kind == "ccpd":
            sets["ccpd"].append((name, _read(pdir / name), lab["plate_text"],
                                 parse_ccpd_name(name).corners))
        elif kind == "lprnet_crops":
            sets["lprnet_crops"].append((name, _read(pdir / name), lab["plate_text"], None))
        elif kind == "mongolian":
            sets["mongolian"].append((name, _read(pdir / name),
                                      lab["plate_text_cyrillic_guess"].replace(" ", ""),
                                      lab["plate_bbox_xyxy"]))
    return sets


def container_set(realdata: Path) -> list[tuple[str, Img, list[str]]]:
    cdir = realdata / "containers"
    labels = json.loads((cdir / "labels.json").read_text(encoding="utf-8"))["files"]
    return [(n, _read(cdir / n), lab["container_codes"]) for n, lab in sorted(labels.items())]


def run_ours(client: Any, realdata: Path) -> dict[str, Any]:
    from pipelines.gate.containers import ContainerReader
    from pipelines.gate.ocr import GateOcr
    from pipelines.gate.plates import PlateReader
    from vision.plates.colour import plate_colour
    from vision.plates.reading import read_cn, read_mn
    from vision.plates.rectify import plate_line, rectify, row_options

    ocr = GateOcr.from_repository(client)
    plates = PlateReader(ocr)
    out: dict[str, Any] = {}
    plate_tiles: list[GateTile] = []
    for set_name, items in plate_sets(realdata).items():
        rows = []
        for k, (name, img, truth, _) in enumerate(items):
            found, ms = _timed(plates.read, img)
            got = found[0].text if found else None
            # the next file's plate stands in for a wrong declaration (must not match)
            other = next((t for _, _, t, _ in items[k + 1:] + items[:k] if t != truth), truth)
            rows.append({"file": name, "truth": truth, "read": got, "ok": got == truth,
                         "ms": round(ms, 1),
                         "type": found[0].reading.plate_type if found else None,
                         "if_declared": _if_declared(truth, found),
                         "if_other_declared": _if_declared(other, found)})
            plate_tiles.append(GateTile(img, [found[0].box] if found else [], got or "-",
                                        truth, got == truth))
        out[f"plates_{set_name}"] = {"summary": _summary(rows), "rows": rows}
        if set_name in ("ccpd", "mongolian"):  # recogniser alone, on the ground-truth region
            rows = []
            for name, img, truth, extra in items:
                if set_name == "ccpd":
                    crop = rectify(img, extra, out_height=48, margin=(0.06, 0.1))
                    t = time.perf_counter()
                    colour = plate_colour(rectify(img, extra, out_height=48))
                    probs = ocr.recognize([crop])[0]
                    r = read_cn(probs, ocr.rec_index, colour, 1)
                else:
                    x1, y1, x2, y2 = extra
                    crop = img[y1:y2, x1:x2]
                    t = time.perf_counter()
                    best = None
                    for nrows in row_options(crop.shape[1] / crop.shape[0]):
                        probs = ocr.recognize_mn([plate_line(crop, nrows)])[0]
                        cand = read_mn(probs, ocr.mn_index, nrows)
                        if cand is not None and (best is None or cand.score > best.score):
                            best = cand
                    r = best
                ms = (time.perf_counter() - t) * 1000.0
                got = r.text if r else None
                rows.append({"file": name, "truth": truth, "read": got, "ok": got == truth,
                             "ms": round(ms, 1)})
            out[f"plates_{set_name}_gt_region"] = {"summary": _summary(rows), "rows": rows}
    container_tiles: list[GateTile] = []
    for key, reader in (("containers", ContainerReader(ocr, exhaustive=True)),
                        ("containers_fast", ContainerReader(ocr, exhaustive=False))):
        rows = []
        for name, img, truths in tqdm(container_set(realdata), desc=key, leave=False):
            res, ms = _timed(reader.read, img)
            codes = [c.code for c in res.codes]
            hits = 0
            for truth in truths:
                ok = any(c.startswith(truth) for c in codes)
                hits += ok
                rows.append({"file": name, "truth": truth, "read": codes, "ok": ok,
                             "ms": round(ms / len(truths), 1), "image_ms": round(ms, 1)})
            if reader.exhaustive:
                container_tiles.append(GateTile(
                    img, [c.box for c in res.codes], " ".join(codes[:2]) or "-",
                    f"{truths[0]}" + (f" (+{len(truths) - 1}: {hits} read)" if len(truths) > 1
                                      else ""), hits == len(truths)))
        out[key] = {"summary": _summary(rows), "rows": rows,
                    "mode": "exhaustive (kouan containers read)" if reader.exhaustive
                    else "fast (passages; no time budget here)"}
    contact_sheet(plate_tiles, ROOT / "docs" / "images" / "gate_plates.png")
    contact_sheet(container_tiles, ROOT / "docs" / "images" / "gate_containers.png", cols=5)
    return out


def run_baseline(realdata: Path) -> dict[str, Any]:
    from rapidocr import RapidOCR

    engine = RapidOCR(params={"Global.log_level": "error"})

    def texts(img: Img) -> str:
        res: Any = engine(img)
        return _norm("".join(getattr(res, "txts", None) or []))

    out: dict[str, Any] = {}
    for set_name, items in plate_sets(realdata).items():
        rows = []
        for name, img, truth, _ in items:
            got, ms = _timed(texts, img)
            rows.append({"file": name, "truth": truth, "read": got, "ok": _norm(truth) in got,
                         "ms": round(ms, 1)})
        out[f"plates_{set_name}"] = {"summary": _summary(rows), "rows": rows}
    rows = []
    for name, img, truths in container_set(realdata):
        got, ms = _timed(texts, img)
        for truth in truths:
            rows.append({"file": name, "truth": truth, "read": got, "ok": truth in got,
                         "ms": round(ms / len(truths), 1)})
    out["containers"] = {"summary": _summary(rows), "rows": rows}
    return out


def _cpu_s(server_pid: int | None) -> float:
    """CPU seconds (user + system) used so far by this process and the Triton server with its
    backend stubs: work per passage independent of how busy the shared machine is."""
    import psutil

    procs = [psutil.Process()]
    if server_pid is not None:
        server = psutil.Process(server_pid)
        procs += [server, *server.children(recursive=True)]
    total = 0.0
    for proc in procs:
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            continue
    return total


def run_latency(client: Any, realdata: Path, n: int,
                server_pid: int | None = None) -> dict[str, Any]:
    from kouan.config import Settings
    from kouan.domain.models import Declaration
    from kouan.services import build_services
    from pipelines.gate.ocr import GateOcr
    from pipelines.gate.passage import GateImage, PassagePipeline

    plate = (realdata / "plates_cn" / "ccpd" / sorted(os.listdir(
        realdata / "plates_cn" / "ccpd"))[8]).read_bytes()
    container = (realdata / "containers" / "alim_2009241555062080810.jpg").read_bytes()
    plate_decl = Declaration(plate="皖AXS887")
    full_decl = Declaration(plate="皖AXS887", container_numbers=["MSKU4135329"])
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        services = build_services(Settings(data_dir=Path(tmp)))
        pipe = PassagePipeline(GateOcr.from_repository(client), services)
        try:
            for variant, decl, images in (
                ("plate_only", plate_decl, [GateImage("plate.jpg", "plate", plate)]),
                ("plate_and_container", full_decl,
                 [GateImage("plate.jpg", "plate", plate),
                  GateImage("container.jpg", "container", container)]),
            ):
                warm = pipe.run(f"psg-warm-{variant}", decl, images, time_budget_ms=60_000)
                ms = []
                decisions = []
                load_before = os.getloadavg()
                cpu0 = _cpu_s(server_pid)
                for i in tqdm(range(n), desc=variant, leave=False):
                    ans, t = _timed(pipe.run, f"psg-{variant}-{i}", decl, images, None,
                                    60_000.0)
                    ms.append(t)
                    decisions.append(ans.decision.value)
                cpu_ms = (_cpu_s(server_pid) - cpu0) * 1000.0 / max(1, n)
                q = np.percentile(ms, [50, 90, 99])
                out[variant] = {"n": n, "p50_ms": round(float(q[0]), 1),
                                "p90_ms": round(float(q[1]), 1),
                                "p99_ms": round(float(q[2]), 1),
                                "mean_ms": round(statistics.fmean(ms), 1),
                                "min_ms": round(min(ms), 1),
                                "cpu_ms_per_passage": round(cpu_ms, 1),
                                "decisions": sorted(set(decisions)),
                                "codes": [c.code for c in warm.containers],
                                "load_average_1_5_15_before": load_before,
                                "load_average_1_5_15_after": os.getloadavg()}
        finally:
            pipe.close()
            services.close()
    out["container_reader"] = ("fast mode (first pass at 640 px, escalation only when no code "
                               "passes the check digit); plates and containers read "
                               "concurrently; time budget 60 s")
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--realdata", type=Path, default=realdata_dir())
    p.add_argument("--passages", type=int, default=20,
                   help="timed passages per variant (at least 1; percentiles need samples)")
    p.add_argument("--skip-baseline", action="store_true")
    a = p.parse_args()
    if a.passages < 1:
        p.error("--passages must be at least 1")
    from serving import gate_models
    from serving.bundled import prepare_repository
    from serving.client import TritonClient
    from serving.embedded import EmbeddedTriton

    result: dict[str, Any] = {"machine": _machine(), "targets": {
        "plates_cn_exact": 0.97, "plates_mn_exact": 0.90, "containers_exact": 0.95,
        "passage_p50_ms": 150, "passage_p99_ms": 400}}
    with tempfile.TemporaryDirectory() as work, EmbeddedTriton(
            prepare_repository(), Path(work),
            models=gate_models.gate_models_needed()) as triton, \
            TritonClient(triton.grpc_url, timeout_s=120) as client:
        result["ours"] = run_ours(client, a.realdata)
        result["latency"] = run_latency(client, a.realdata, a.passages, triton.pid)
    if not a.skip_baseline:
        result["baseline_rapidocr_whole_image"] = run_baseline(a.realdata)
        ratios = {}
        for key, ours in result["ours"].items():
            base = result["baseline_rapidocr_whole_image"].get(key)
            if base:
                b, o = base["summary"], ours["summary"]
                ratios[key] = {"accuracy_ours": o["accuracy"], "accuracy_baseline": b["accuracy"],
                               "time_ratio_ours_over_baseline": round(
                                   o["ms_p50"] / b["ms_p50"], 3) if b["ms_p50"] else None}
        result["side_by_side"] = ratios
    out = ROOT / "bench" / "results" / "gate.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    short = {k: v["summary"] for k, v in result["ours"].items()}
    print(json.dumps({"ours": short, "latency": result["latency"],
                      "side_by_side": result.get("side_by_side")}, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
