"""Screenshots of every view of the web page at desktop (1280x800) and phone (390x844) widths.

Starts a real server (offline planner, its own data dir), does in each view what tests/web/flows.py does (a
chat turn, a review with fixes, a smoke run, an experiment comparison) and saves PNGs, so a person can look
at what the browser tests checked. Usage: ``python bench/screenshots.py [--out bench/screenshots]``
(``make screenshots``). Needs Chromium and chromedriver (scripts/setup-system.sh installs them as root).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import start_server  # noqa: E402
from tests.web import flows  # noqa: E402
from tests.web.browser import DESKTOP, PHONE, start_browser, unavailable  # noqa: E402


def _save(driver: Any, name: str, out: Path) -> None:
    """Save what the viewport shows now (the callers scroll the part worth looking at into view)."""
    driver.save_screenshot(str(out / f"{name}.png"))


def shoot(driver: Any, url: str, size: tuple[int, int], label: str, out: Path, smoke_ok: bool) -> None:
    flows.open_page(driver, url, "chat")
    started = time.monotonic()
    flows.chat(driver)
    print(f"  chat turn: {time.monotonic() - started:.1f} s")
    _save(driver, f"chat-{label}", out)
    driver.execute_script("document.querySelector('.msg.assistant .tool')?.setAttribute('open', '')")
    driver.execute_script("document.getElementById('messages').scrollTop = 0")
    _save(driver, f"chat-tools-{label}", out)
    if label == "phone":
        driver.find_element("id", "menu-toggle").click()
        time.sleep(0.4)
        _save(driver, f"chat-threads-{label}", out)
    if smoke_ok:  # a run the agent proposes waits for approval (the server runs with MLAGENT_APPROVAL=always)
        flows.open_page(driver, url, "chat")
        flows.chat(driver, f"here is my model\n```python\n{flows.EXAMPLE_MODULE}```")
        flows.chat(driver, "smoke-test it for 4 steps")
        _save(driver, f"chat-approval-{label}", out)
        flows.approve_run(driver)
        _save(driver, f"chat-approved-run-{label}", out)
    flows.open_page(driver, url, "review")
    flows.review(driver, fix=False)
    _save(driver, f"review-{label}", out)
    driver.execute_script("document.querySelector('.file')?.scrollIntoView()")
    _save(driver, f"review-code-{label}", out)
    flows.open_page(driver, url, "review")
    flows.review(driver, fix=True)
    driver.execute_script("document.querySelector('.diff')?.scrollIntoView()")
    _save(driver, f"review-fix-{label}", out)
    if smoke_ok:
        flows.open_page(driver, url, "smoke")
        started = time.monotonic()
        flows.smoke(driver, steps=15)
        print(f"  smoke run: {time.monotonic() - started:.1f} s")
        if label == "phone":
            driver.execute_script("document.getElementById('smoke-chart').scrollIntoView()")
        _save(driver, f"smoke-{label}", out)
        flows.open_page(driver, url, "experiments")
        flows.experiments(driver)
        _save(driver, f"experiments-{label}", out)
        if label == "phone":
            driver.execute_script("document.getElementById('exp-chart').scrollIntoView()")
            _save(driver, f"experiments-compare-{label}", out)
    driver.get(f"{url}/docs")
    time.sleep(2)
    _save(driver, f"docs-{label}", out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "screenshots")
    args = parser.parse_args()
    reason = unavailable()
    if reason:
        print(f"screenshots skipped: {reason}")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(
            Path(tmp) / "data", {"MLAGENT_SMOKE_CONCURRENCY": "2", "MLAGENT_APPROVAL": "always"}
        )
        try:
            import httpx

            sandbox = httpx.get(f"{server.url}/readyz", timeout=30).json()["checks"]["sandbox"]
            if not sandbox["ok"]:
                print(f"smoke-run and experiment views skipped: {sandbox.get('reason')}")
            for size, label, mobile in ((DESKTOP, "desktop", False), (PHONE, "phone", True)):
                print(f"{label} {size[0]}x{size[1]}")
                driver = start_browser(size, mobile=mobile)
                try:
                    shoot(driver, server.url, size, label, args.out, bool(sandbox["ok"]))
                finally:
                    driver.quit()
        finally:
            server.stop()
    print(f"saved {len(list(args.out.glob('*.png')))} screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
