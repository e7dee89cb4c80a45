"""The run's two output streams, read without ever blocking it: stdout/stderr (a bounded tail and capped log
events) and the harness's JSON-lines channel (capped in line size and message count)."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
from typing import Any

MAX_LOG_EVENTS = 2_000
MAX_LOG_LINE_CHARS = 1_000
MAX_CHANNEL_LINE_BYTES = 2_000_000
MAX_CHANNEL_MESSAGES = 20_000


class OutputCapture:
    """Drains the run's stdout/stderr without ever blocking it: keeps a bounded tail, emits capped log events."""

    def __init__(self, cap_bytes: int, events: queue.Queue[tuple[str, Any]]) -> None:
        self.cap = cap_bytes
        self.tail = bytearray()
        self.total = 0
        self.events = events
        self.log_events = 0
        self._partial = b""

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self.tail += chunk
        if len(self.tail) > self.cap:
            del self.tail[: len(self.tail) - self.cap]
        if self.log_events >= MAX_LOG_EVENTS:
            return
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()[-MAX_LOG_LINE_CHARS:]
        for line in lines:
            if self.log_events >= MAX_LOG_EVENTS:
                break
            self.log_events += 1
            text = line[:MAX_LOG_LINE_CHARS].decode("utf-8", errors="replace")
            self.events.put(("log", text))

    def text(self) -> str:
        body = bytes(self.tail).decode("utf-8", errors="replace")
        if self.total > len(self.tail):
            return f"[... {self.total - len(self.tail)} earlier bytes of output omitted ...]\n{body}"
        return body


def pump_output(fd: int, capture: OutputCapture) -> None:
    with contextlib.suppress(OSError):
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            capture.feed(chunk)


def signal_exit(proc: subprocess.Popen[bytes], events: queue.Queue[tuple[str, Any]]) -> None:
    proc.wait()
    events.put(("exit", None))


def pump_channel(fd: int, events: queue.Queue[tuple[str, Any]]) -> None:
    """Read the harness's JSON lines; oversized or malformed lines are dropped, message count is capped."""
    buffer = b""
    count = 0
    with contextlib.suppress(OSError):
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                count += 1
                if count <= MAX_CHANNEL_MESSAGES:
                    with contextlib.suppress(ValueError):
                        message = json.loads(line)
                        if isinstance(message, dict):
                            events.put(("msg", message))
            if len(buffer) > MAX_CHANNEL_LINE_BYTES:
                buffer = b""
