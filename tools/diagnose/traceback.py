"""Parse the harness's error field: ``Type: message`` then the submitted-files-only traceback it appends.

The format is the harness's own (``describe_failure`` in sandbox/harness.py), so this is reading a structured
field, not guessing from free text: line 1 is the exception, frames are ``File "p", line N, in f`` + code.
"""

from __future__ import annotations

import re

from tools.diagnose.models import Frame

_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+), in (?P<func>.+)$')
_HEADER = "Traceback (submitted files only, most recent call last):"
_EXC = re.compile(
    r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit|Warning)?): (?P<msg>.*)$", re.S
)


def split_error(error: str | None) -> tuple[str | None, str, list[Frame]]:
    """(exception type or None, message, frames) of a run's error."""
    if not error:
        return None, "", []
    head, _, tail = error.partition("\n" + _HEADER + "\n")
    frames: list[Frame] = []
    lines = tail.splitlines()
    for i, line in enumerate(lines):
        m = _FRAME.match(line)
        if m:
            code = lines[i + 1].strip() if i + 1 < len(lines) and not _FRAME.match(lines[i + 1]) else ""
            frames.append(Frame(path=m["path"], line=int(m["line"]), function=m["func"], code=code))
    m = _EXC.match(head.strip())
    if m and " " not in m["type"]:
        return m["type"], m["msg"].strip(), frames
    return None, head.strip(), frames
