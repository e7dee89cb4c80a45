"""Explanations of the 14 checklist items (from ``prompts/checklist.md``) and of single review rules.

Kept as text so the persona's wording can be edited without touching code; the rule ids that judge each item
come from the review engine itself, so the explanation never drifts from what the reviewer checks.
"""

from __future__ import annotations

import re
from functools import lru_cache

from agent.prompts import load_prompt

_RULE_ID = re.compile(r"^MLR\d{3}$", re.IGNORECASE)


@lru_cache(maxsize=1)
def checklist_sections() -> dict[str, str]:
    """Checklist id -> Markdown explanation."""
    sections: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []
    for line in load_prompt("checklist.md").splitlines():
        if line.startswith("## "):
            if current:
                sections[current] = "\n".join(lines).strip()
            current, lines = line[3:].strip(), []
        elif current:
            lines.append(line)
    if current:
        sections[current] = "\n".join(lines).strip()
    return sections


def resolve_item(text: str) -> str | None:
    """Map free text ("gradient clipping", "seeds", "ONNX") to a checklist id."""
    lowered = text.lower().replace("_", "-")
    sections = checklist_sections()
    for item in sections:
        if item in lowered or item.replace("-", " ") in lowered:
            return item
    synonyms = {
        "clip": "gradient-clipping",
        "seed": "seeding",
        "reproducib": "seeding",
        "schedul": "lr-scheduler",
        "learning rate": "lr-scheduler",
        "precision": "mixed-precision",
        "amp": "mixed-precision",
        "fp16": "mixed-precision",
        "bf16": "mixed-precision",
        "callback": "callbacks",
        "checkpoint": "callbacks",
        "early stop": "callbacks",
        "leak": "data-leakage",
        "onnx": "onnx-export",
        "export": "onnx-export",
        "augment": "augmentations",
        "loss": "loss-function",
        "prefix": "metric-prefixes",
        "logging": "metric-prefixes",
        "pydantic": "pydantic-config",
        "config": "pydantic-config",
        "datamodule": "data-module",
        "data module": "data-module",
        "split": "data-module",
        "lightningmodule": "lightning-module",
        "lightning module": "lightning-module",
        "tracking": "experiment-tracking",
        "wandb": "experiment-tracking",
        "mlflow": "experiment-tracking",
        "tensorboard": "experiment-tracking",
    }
    for key, item in synonyms.items():
        if key in lowered:
            return item
    return None


def explain(text: str) -> tuple[str, dict[str, object]]:
    """Markdown explanation plus a structured artifact; KeyError with a helpful message when unknown."""
    from tools.review.rules import all_rules, rule_by_code

    token = text.strip()
    if _RULE_ID.match(token):
        rule = rule_by_code(token)
        if rule is None:
            raise KeyError(f"there is no review rule {token.upper()}")
        doc = (
            f"### `{rule.code}` {rule.name}\n\n{rule.doc()}\n\n**Checklist item:** `{rule.checklist}`"
            f"\n\n**Fix:** {rule.suggestion}"
        )
        return doc, {"rule": rule.code, "item": rule.checklist, "doc": rule.doc()}
    item = resolve_item(token)
    if item is None:
        known = ", ".join(checklist_sections())
        raise KeyError(f"'{text}' is not a checklist item or rule id; the items are: {known}")
    rules = [(rule.code, rule.name) for rule in all_rules() if rule.checklist == item]
    body = checklist_sections()[item]
    rule_lines = "\n".join(f"- `{rule_id}` {name}" for rule_id, name in rules)
    content = f"### Checklist: `{item}`\n\n{body}"
    if rule_lines:
        content += f"\n\n**Judged by these review rules:**\n{rule_lines}"
    return content, {"item": item, "rules": [rule_id for rule_id, _ in rules], "explanation": body}
