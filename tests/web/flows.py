"""What a person does on the web page, step by step, with what they should then see.

Shared by ``tests/web/test_browser.py`` (which asserts on the returned facts) and ``bench/screenshots.py``
(which photographs each view afterwards), so the screenshots show exactly what the tests checked.
"""

from __future__ import annotations

from typing import Any

from tests.web.browser import wait_for

# A tiny LightningModule as a person would paste it (the screenshots' approval flow trains it).
EXAMPLE_MODULE = """import lightning as L
import torch
import torch.nn as nn


class TinyClassifier(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 4))
        self.example_input_array = torch.zeros(2, 3, 8, 8)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        images, labels = batch
        loss = nn.functional.cross_entropy(self(images), labels)
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.05)
"""
CHAT_QUESTION = "Which loss should I use for multi-label image classification?"
# Written for these tests: an outdated Trainer argument (fixable), an unseeded shuffled loader and no
# validation, so the checklist has failures and the fixer has something to change.
REVIEW_SAMPLE = """import pytorch_lightning as pl
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Classifier(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(16, 3)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.cross_entropy(self.net(x), y)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


data = TensorDataset(torch.randn(64, 16), torch.randint(0, 3, (64,)))
trainer = pl.Trainer(gpus=1, max_epochs=3)
trainer.fit(Classifier(), DataLoader(data, batch_size=8, shuffle=True))
"""


def _by_id(driver: Any, element_id: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id)


def _all(driver: Any, css: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, css))


def _set_value(driver: Any, element_id: str, text: str) -> None:
    """Fill a field as a paste would (send_keys of a long program is slow and auto-indents nothing here)."""
    driver.execute_script(
        "const f = document.getElementById(arguments[0]); f.value = arguments[1];"
        "f.dispatchEvent(new Event('input'));",
        element_id,
        text,
    )


def open_page(driver: Any, url: str, view: str = "chat", api_key: str | None = None) -> None:
    """Load the page on ``view`` (a fresh browser profile: no threads, the given key stored)."""
    driver.get(f"{url}/#{view}")
    driver.execute_script("localStorage.clear()")
    if api_key:
        driver.execute_script("localStorage.setItem('mlagent.apiKey', arguments[0])", api_key)
    driver.get(f"{url}/#{view}")
    driver.refresh()
    wait_for(driver, lambda d: _by_id(d, f"view-{view}").is_displayed(), 10, f"the {view} view")


def chat(driver: Any, question: str = CHAT_QUESTION, timeout_s: float = 90.0) -> dict[str, Any]:
    """Send a message; wait for the streamed answer to finish. Returns the answer's text, the number of token
    events the page received, and the tool calls shown (name, state)."""
    before = len(_all(driver, ".msg.assistant"))
    _set_value(driver, "message", question)  # typed Enter would send: a paste keeps the newlines
    _by_id(driver, "send").click()
    wait_for(driver, lambda d: len(_all(d, ".msg.assistant")) > before, 10, "the answer bubble")
    wait_for(
        driver,
        lambda d: "streaming" not in _all(d, ".msg.assistant")[-1].get_attribute("class"),
        timeout_s,
        "the finished answer",
    )
    bubble = _all(driver, ".msg.assistant")[-1]
    tools = [
        (item.find_element("css selector", ".tool-name").text, item.get_attribute("class"))
        for item in bubble.find_elements("css selector", ".tool")
    ]
    return {
        "answer": bubble.find_element("css selector", ".body").text,
        "html": bubble.find_element("css selector", ".body").get_attribute("innerHTML"),
        "tokens": int(bubble.get_attribute("data-tokens") or 0),
        "tools": tools,
        "threads": [item.text for item in _all(driver, "#thread-list li")],
    }


def review(
    driver: Any, code: str = REVIEW_SAMPLE, fix: bool = False, timeout_s: float = 60.0
) -> dict[str, Any]:
    """Paste ``code`` as train.py and review it (``fix``: apply the fixes). Returns the checklist statuses,
    the findings shown inline (rule codes), and the diff's added and removed lines."""
    _set_value(driver, "review-code", code)
    _by_id(driver, "review-add").click()
    _by_id(driver, "review-fix" if fix else "review-run").click()
    wait_for(
        driver,
        lambda d: _all(d, "#review-result .checklist") or _all(d, "#review-result .error-text"),
        timeout_s,
        "the review report",
    )
    return {
        "statuses": [item.get_attribute("class").split()[-1] for item in _all(driver, ".checklist .check")],
        "inline_findings": [
            item.find_element("css selector", "b").text for item in _all(driver, ".code-view .finding")
        ],
        "flagged_lines": len(_all(driver, ".code-view .line.has-warning, .code-view .line.has-error")),
        "added": [item.text for item in _all(driver, ".diff .add")],
        "removed": [item.text for item in _all(driver, ".diff .del")],
        "errors": [item.text for item in _all(driver, "#review-result .error-text")],
    }


def smoke(driver: Any, steps: int = 12, timeout_s: float = 180.0) -> dict[str, Any]:
    """Load the example module, start a smoke run and wait for it to end. Returns the final status, the step
    events shown, and the number of points on the loss curve."""
    _by_id(driver, "smoke-example").click()
    steps_field = _by_id(driver, "smoke-steps")
    steps_field.clear()
    steps_field.send_keys(str(steps))
    _by_id(driver, "smoke-start").click()
    wait_for(driver, lambda d: _all(d, "#smoke-events li.step"), timeout_s, "the first step event")
    live_points = _points(driver, "#smoke-chart")
    wait_for(driver, lambda d: _all(d, "#smoke-summary dl"), timeout_s, "the run's result")
    status = driver.execute_script(
        "const dts = [...document.querySelectorAll('#smoke-summary dt')];"
        "const i = dts.findIndex(x => x.textContent === 'status');"
        "return i < 0 ? null : document.querySelectorAll('#smoke-summary dd')[i].textContent;"
    )
    return {
        "status": status,
        "live_points": live_points,
        "points": _points(driver, "#smoke-chart"),
        "step_events": len(_all(driver, "#smoke-events li.step")),
        "status_line": _by_id(driver, "smoke-status").text,
    }


def _points(driver: Any, container: str) -> int:
    """Points on the chart's curves (the SVG polylines' vertices)."""
    count: int = driver.execute_script(
        "return [...document.querySelectorAll(arguments[0] + ' polyline')]"
        ".reduce((n, p) => n + p.getAttribute('points').trim().split(/\\s+/).filter(Boolean).length, 0)",
        container,
    )
    return count


def experiments(driver: Any, select: int = 2, timeout_s: float = 30.0) -> dict[str, Any]:
    """Open the experiments list, select the first ``select`` rows and compare them. Returns the listed ids,
    the compared columns and the number of curves drawn."""
    wait_for(driver, lambda d: _all(d, "#exp-table tbody tr"), timeout_s, "the experiment list")
    rows = _all(driver, "#exp-table tbody tr input[type=checkbox]")
    for box in rows[:select]:
        box.click()
    if len(rows) >= 2:
        _by_id(driver, "exp-compare").click()
        wait_for(driver, lambda d: _all(d, "#exp-compare-table table"), timeout_s, "the comparison")
    return {
        "ids": [item.text for item in _all(driver, "#exp-table .exp-id")],
        "compared": [item.text for item in _all(driver, "#exp-compare-table thead th")][1:],
        "curves": len(_all(driver, "#exp-chart polyline")),
    }


def approve_run(driver: Any, timeout_s: float = 240.0) -> dict[str, Any]:
    """With an approval card on screen, click "Approve and run" and wait for the run's turn to end. Returns the
    smoke_run line's state and text and how many progress events it showed."""
    before = len(_all(driver, ".msg.assistant"))
    _all(driver, ".approval .approve")[-1].click()
    wait_for(driver, lambda d: len(_all(d, ".msg.assistant")) > before, 10, "the approved turn")
    wait_for(
        driver,
        lambda d: "streaming" not in _all(d, ".msg.assistant")[-1].get_attribute("class"),
        timeout_s,
        "the approved run to finish",
    )
    tools = _all(driver, ".msg.assistant")[-1].find_elements("css selector", ".tool")
    smoke = [item for item in tools if item.find_element("css selector", ".tool-name").text == "smoke_run"]
    return {
        "state": smoke[-1].get_attribute("class") if smoke else None,
        "line": smoke[-1].find_element("css selector", "summary").text if smoke else "",
        "progress": int(smoke[-1].get_attribute("data-progress") or 0) if smoke else 0,
        "answer": _all(driver, ".msg.assistant")[-1].find_element("css selector", ".body").text,
    }
