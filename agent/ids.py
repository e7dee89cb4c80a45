"""Identifier formats of the HTTP API, in one place so that the OpenAPI document and the validation agree.

Each pattern reads the same in ECMA-262 (what OpenAPI clients and fuzzers use), Python ``re`` and the Rust
engine pydantic validates with: ASCII classes only, anchored with ``^`` and ``$``. Validation goes through
pydantic (``Path``/``Query``/``Header`` patterns), whose ``$`` never matches before a trailing newline; the old
``re.match`` check let ``GET /v1/threads/abc%0A`` through to a 404.
"""

from __future__ import annotations

from sandbox.experiments import MAX_COMPARE

#: A chat thread id (the same rule as ``agent.chat.THREAD_ID_PATTERN``).
THREAD_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
THREAD_ID_HELP = "1-128 letters, digits, '_', '.', ':' or '-', starting with a letter or digit"

#: A smoke-run or experiment id: ``run-<hex>`` and ``exp-<hex>`` today; anything of this shape is looked up.
RECORD_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
RECORD_ID_HELP = "1-64 letters, digits, '_' or '-', starting with a letter or digit"

_ONE = r" *[A-Za-z0-9][A-Za-z0-9_-]{0,63} *"
#: ``ids`` of the experiment comparison: 2 to MAX_COMPARE record ids, comma-separated.
RECORD_ID_LIST = rf"^{_ONE}(,{_ONE}){{1,{MAX_COMPARE - 1}}}$"
RECORD_ID_LIST_HELP = f"2 to {MAX_COMPARE} comma-separated experiment ids"

#: At least one character that is not white space (JSON Schema patterns are searched, not anchored).
NOT_BLANK = r"\S"
