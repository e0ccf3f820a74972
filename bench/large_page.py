"""Open a large-map page in headless Chromium and time it until the canvas has drawn at its
final view (the end of the last draw, once redraws have settled, from navigation start).

``python -m bench.large_page PAGE.html`` prints the page weight, the time from navigation
to the first complete canvas draw (``window.xlDrawn``), and a tooltip read at the centre of
the first area. Used by the browser tests (a 5,000-VTD subset) and the ``--full`` national
bench (all 74,954 VTDs)."""

from __future__ import annotations

import re
import shutil
import sys
import time
from pathlib import Path

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def open_page(page_file: Path, probe: tuple[float, float] | None = None) -> dict:
    """Seconds to load and draw ``page_file`` offline, errors, remote requests, a tooltip."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=ARGS)
        context = browser.new_context(viewport={"width": 1200, "height": 900}, offline=True)
        page = context.new_page()
        errors, remote = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route(
            re.compile(r"^(?!file:).*"),
            lambda route: (remote.append(route.request.url), route.abort()),
        )
        start = time.perf_counter()
        page.goto(Path(page_file).resolve().as_uri(), timeout=120_000)
        page.wait_for_function("window.xlDrawn >= 1", timeout=120_000)
        last = None
        while last != page.evaluate("() => window.xlLastDraw"):  # until redraws settle
            last = page.evaluate("() => window.xlLastDraw")
            page.wait_for_timeout(1_500)
            if time.perf_counter() - start > 120:
                break
        seconds = last / 1000  # navigation start to the end of the last draw
        timing = page.evaluate("() => window.xlTiming")
        timing["navigation"] = page.evaluate(
            "() => performance.getEntriesByType('navigation')[0].toJSON()"
        )
        timing["navigation"] = {
            k: round(v) for k, v in timing["navigation"].items() if k.endswith("End")
        }
        tip = page.evaluate("([a, b]) => window.xlShowTip(a, b)", list(probe)) if probe else None
        shot = Path(page_file).with_suffix(".png")
        page.screenshot(path=str(shot))
        browser.close()
    return {
        "seconds": seconds,
        "megabytes": Path(page_file).stat().st_size / 1e6,
        "errors": errors,
        "remote": remote,
        "tip": tip,
        "timing": timing,
        "screenshot": str(shot),
    }


if __name__ == "__main__":
    print(open_page(Path(sys.argv[1])))
