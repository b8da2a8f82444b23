"""End to end in headless Chromium (Debian's /usr/bin/chromium driven by Playwright): sign in
with a token, open the queue, claim, view with overlays, change window/level, correct a box,
confirm. Saves a screenshot to tests/browser/artifacts/review.png."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from annotation.scan_decode import dual_energy_npz
from datasets.synth.baggage import generate_baggage
from kouan.api.app import create_app
from kouan.auth import Role
from kouan.domain import Severity
from kouan.services import Services
from tests.fixtures.alarm_path import ledger_rows
from tests.fixtures.review import submit_scan

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).with_name("artifacts")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(services: Services) -> Iterator[str]:
    """The real app (uvicorn, HTTP on loopback) in a thread; yields its base URL."""
    port = _free_port()
    config = uvicorn.Config(create_app(services.settings, services), host="127.0.0.1",
                            port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, name="uvicorn-ui-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def _bag_item(services: Services) -> tuple[str, str, tuple[float, float, float, float]]:
    """A synthetic bag with a real threat; the 'model' box is shifted off the threat."""
    sample = generate_baggage(7)
    view = sample.views[0]
    threat = next(a for a in view.annotations if a.label == "handgun")
    x1, y1, x2, y2 = threat.box_xyxy
    off = (x1 + 25, y1 + 18, min(x2 + 25, 511.0), min(y2 + 18, 511.0))  # the detector's error
    scan = submit_scan(services, severity=Severity.HIGH, boxes=[(threat.label, off)],
                       data=dual_energy_npz(view.low, view.high, "linear",
                                            "dual_layer_160kv_10keV"))
    return scan.item_id, scan.image, threat.box_xyxy


def _screen(page, x: float, y: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Page coordinates of image point (x, y)."""
    p = page.evaluate(f"window.kouanViewer.toScreen({x}, {y})")
    box = page.locator("#canvas").bounding_box()
    return box["x"] + p["x"], box["y"] + p["y"]


def test_review_in_the_browser(server: str, services: Services) -> None:
    from playwright.sync_api import expect, sync_playwright

    item_id, image, truth = _bag_item(services)
    submit_scan(services, severity=Severity.LOW)  # a second, less urgent item
    _, secret = services.tokens.create(Role.REVIEWER, "ana")
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1600, "height": 900})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        outside: list[str] = []
        page.on("request", lambda r: outside.append(r.url)
                if not r.url.startswith((server, "blob:", "data:")) else None)

        # sign in, see the queue
        page.goto(f"{server}/ui/")
        page.fill("#token", secret)
        page.click("#login-btn")
        expect(page.locator("#whoami")).to_have_text("ana (reviewer)")
        expect(page.locator("#queue tbody tr")).to_have_count(2)
        expect(page.locator("#queue tbody tr").first).to_contain_text("high")

        # claim the most urgent item: the bag with overlays
        page.keyboard.press("n")
        stage = page.locator(f"#stage[data-view='pseudo_colour'][data-item='{item_id}']")
        expect(stage).to_be_visible()
        expect(page.locator("#claim")).to_have_text("Claimed")
        assert page.evaluate("window.kouanViewer.boxes.length") == 1
        assert page.evaluate("window.kouanViewer.overlays") is True

        # window/level on the raw 16-bit data: right-drag changes window and level
        page.keyboard.press("0")
        expect(page.locator("#stage[data-view='raw']")).to_be_visible()
        before = page.evaluate("({...window.kouanViewer.window})")
        cx, cy = _screen(page, 256, 256)
        page.mouse.move(cx, cy)
        page.mouse.down(button="right")
        page.mouse.move(cx - 120, cy - 60, steps=6)
        page.mouse.up(button="right")
        after = page.evaluate("({...window.kouanViewer.window})")
        assert after["max"] == 65535
        assert after["width"] < before["width"] and after["level"] > before["level"]
        expect(page.locator("#wl-readout")).to_contain_text(f"W {round(after['width'])}")
        page.fill("#gamma", "1.6")  # gamma slider
        assert page.evaluate("window.kouanViewer.window.gamma") == pytest.approx(1.6)

        # back to colour; correct the model's box: drag it onto the threat, fix a corner
        page.keyboard.press("1")
        expect(page.locator("#stage[data-view='pseudo_colour']")).to_be_visible()
        box = page.evaluate("window.kouanViewer.boxes[0].box")
        sx, sy = _screen(page, (box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
        tx, ty = _screen(page, (box[0] + box[2]) / 2 - 25, (box[1] + box[3]) / 2 - 18)
        page.mouse.move(sx, sy)
        page.mouse.down()
        page.mouse.move(tx, ty, steps=8)
        page.mouse.up()
        expect(page.locator("#label-rev")).to_have_text("revision 1 saved")
        moved = page.evaluate("window.kouanViewer.boxes[0]")
        assert moved["origin"] == "reviewer"
        assert abs(moved["box"][0] - truth[0]) < 3 and abs(moved["box"][1] - truth[1]) < 3

        # draw an extra box and relabel it, then delete it again with the keyboard
        page.keyboard.press("b")
        ax, ay = _screen(page, 60, 60)
        bx, by = _screen(page, 110, 100)
        page.mouse.move(ax, ay)
        page.mouse.down()
        page.mouse.move(bx, by, steps=5)
        page.mouse.up()
        expect(page.locator("#label-rev")).to_have_text("revision 2 saved")
        page.select_option("#box-label", "gun_part")
        expect(page.locator("#label-rev")).to_have_text("revision 3 saved")
        assert page.evaluate("window.kouanViewer.boxes.map(b => b.label)") == [moved["label"],
                                                                                "gun_part"]
        page.locator("#canvas").focus()
        page.keyboard.press("Delete")
        expect(page.locator("#label-rev")).to_have_text("revision 4 saved")

        # overlays toggle with O (off and on again), then the screenshot
        page.keyboard.press("o")
        assert page.evaluate("window.kouanViewer.overlays") is False
        page.keyboard.press("o")
        page.screenshot(path=str(ARTIFACTS / "review.png"))

        # confirm with the keyboard: C, pick the reason, Enter
        page.keyboard.press("c")
        expect(page.locator("#decision-form")).to_be_visible()
        page.select_option("#reason", "threat_confirmed")
        page.fill("#notes", "blade behind the laptop")
        page.keyboard.press("Enter")
        expect(page.locator("#toast")).to_contain_text("confirmed")
        browser.close()

    assert not errors, errors
    assert not outside, f"requests left the app: {outside}"
    entry = services.queue.get(item_id)
    assert entry.item.status.value == "confirmed" and entry.item.decided_by == "ana"
    assert entry.item.notes == "blade behind the laptop"
    [decision] = ledger_rows(services.sessions, "review_decision")
    assert json.loads(decision.payload)["reason_code"] == "threat_confirmed"
    from annotation.label_store import LabelStore

    saved = LabelStore(services.sessions).current(item_id)[image]
    assert saved.revision == 4 and [b.origin for b in saved.boxes] == ["reviewer"]
    assert (ARTIFACTS / "review.png").stat().st_size > 10_000
