"""Which part a real model plays: ``tools`` (it calls the tools) or ``compose`` (it writes the answer).

``MLAGENT_LLM_MODE=auto`` picks by model size, because tool calling is what small models get wrong (measured
with SmolLM2-135M: no tool in 10 chats with plain prompting, a wrong tool or junk arguments 6 times of 6 with
``tool_choice`` sent). The rule, in order:

1. the parameter count the server reports for the model (llama.cpp's ``/v1/models`` lists ``meta.n_params``);
2. a size in the model id (``SmolLM2-135M``, ``qwen2.5:3b``, ``Llama-3.2-1B-Instruct``);
3. otherwise ``tools`` (hosted models such as gpt-4o-mini name no size and call tools well).

Under 7B parameters means ``compose``. The choice is logged at start-up and reported by ``/readyz``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from core.settings import Settings

Mode = Literal["tools", "compose"]
SMALL_MODEL_PARAMS = 7e9
_SIZE_IN_NAME = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*([mb])(?![a-z])", re.IGNORECASE)


@dataclass(frozen=True)
class ModeChoice:
    """The mode in use and why (shown in the logs and ``/readyz``)."""

    mode: Mode
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"mode": self.mode, "reason": self.reason}


def _listed_model(listing: dict[str, Any] | None, model: str) -> dict[str, Any] | None:
    entries = [entry for entry in (listing or {}).get("data") or [] if isinstance(entry, dict)]
    for entry in entries:
        if entry.get("id") == model or model in (entry.get("aliases") or []):
            return entry
    return entries[0] if len(entries) == 1 else None


def params_in_name(name: str) -> float | None:
    """Parameters named in a model id ("SmolLM2-135M" is 1.35e8, "qwen2.5:7b" 7e9), or None."""
    sizes = [
        float(number) * (1e6 if unit.lower() == "m" else 1e9)
        for number, unit in _SIZE_IN_NAME.findall(name.replace("_", "-").split("/")[-1])
    ]
    return max(sizes) if sizes else None


def choose_mode(settings: Settings, listing: dict[str, Any] | None = None) -> ModeChoice:
    """The mode for ``settings`` given the server's model listing (None when the server was not probed)."""
    if settings.llm_mode != "auto":
        return ModeChoice(settings.llm_mode, f"MLAGENT_LLM_MODE={settings.llm_mode}")
    entry = _listed_model(listing, settings.model)
    reported = (entry or {}).get("meta", {}).get("n_params") if entry else None
    if isinstance(reported, int | float) and reported > 0:
        mode: Mode = "compose" if reported < SMALL_MODEL_PARAMS else "tools"
        return ModeChoice(mode, f"auto: the server reports {reported / 1e9:.2g}B parameters")
    for name in (settings.model, str((entry or {}).get("id", ""))):
        named = params_in_name(name) if name else None
        if named is not None:
            mode = "compose" if named < SMALL_MODEL_PARAMS else "tools"
            return ModeChoice(mode, f"auto: the model id {name!r} names {named / 1e9:.2g}B parameters")
    return ModeChoice("tools", "auto: the model's size is unknown; assumed capable of tool calling")
