"""Jobs for the worker-pool tests: importable by name in a worker process (``tests.workers.jobs:NAME``)."""

from __future__ import annotations

import os
import signal
import time


def echo(value: object) -> object:
    return value


def pid() -> int:
    return os.getpid()


def sleep(seconds: float) -> str:
    time.sleep(seconds)
    return "woke"


def hog_memory(megabytes: int) -> int:
    block = bytearray(megabytes * 2**20)
    return len(block)


def segfault() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def fail(message: str) -> None:
    raise ValueError(message)


def grow(megabytes: int) -> int:
    """Keep memory alive after the job, so the worker's resident size stays large."""
    global _KEPT
    _KEPT = bytearray(megabytes * 2**20)
    _KEPT[::4096] = b"x" * len(_KEPT[::4096])
    return os.getpid()


_KEPT = bytearray()
