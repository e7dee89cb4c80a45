"""Headless Debian Chromium driven by Selenium (the system ``chromium`` and ``chromedriver``; no download).

Shared by the browser tests and ``bench/screenshots.py``. ``unavailable()`` says why no browser can run here,
so that a test is skipped with that reason instead of failing where Chromium cannot be installed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Any

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
DRIVER_CANDIDATES = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
DESKTOP = (1280, 800)
PHONE = (390, 844)


def _first(candidates: tuple[str, ...], name: str) -> str | None:
    found = [path for path in candidates if shutil.which(path)]
    return found[0] if found else shutil.which(name)


def unavailable() -> str | None:
    """None when a browser can be started, else the reason (for pytest.skip)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed (pip install selenium)"
    if _first(CHROMIUM_CANDIDATES, "chromium") is None:
        return "Chromium is not installed (apt-get install chromium; scripts/setup-system.sh does it as root)"
    if _first(DRIVER_CANDIDATES, "chromedriver") is None:
        return "chromedriver is not installed (apt-get install chromium-driver)"
    return None


def start_browser(size: tuple[int, int] = DESKTOP, mobile: bool = False) -> Any:
    """A headless Chromium of ``size`` CSS pixels (``mobile`` adds a phone's touch and device pixel ratio 1)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(_first(CHROMIUM_CANDIDATES, "chromium"))
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-extensions",
        "--hide-scrollbars",
    ):
        options.add_argument(flag)
    options.add_argument(f"--window-size={size[0]},{size[1]}")
    if mobile:
        metrics = {"width": size[0], "height": size[1], "pixelRatio": 1.0, "touch": True}
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": metrics})
    driver = webdriver.Chrome(
        options=options, service=Service(str(_first(DRIVER_CANDIDATES, "chromedriver")))
    )
    driver.set_window_size(*size)
    # Headless window sizes include no browser chrome: make the page's viewport exactly ``size``.
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    if list(inner) != list(size) and not mobile:
        driver.set_window_size(2 * size[0] - inner[0], 2 * size[1] - inner[1])
    return driver


def wait_for(driver: Any, condition: Callable[[Any], Any], timeout_s: float = 30.0, what: str = "") -> Any:
    """Wait until ``condition(driver)`` is truthy; the failure names ``what`` and shows the page's text."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout_s, poll_frequency=0.1).until(condition)
    except TimeoutException:
        text = driver.execute_script("return document.body.innerText")[-2000:]
        raise AssertionError(
            f"timed out after {timeout_s} s waiting for {what}; page text:\n{text}"
        ) from None
