"""Real small-model benchmark: the agent with SmolLM2-135M behind llama.cpp's server (xllamacpp, one thread).

Usage: ``.venv/bin/python bench/llm_bench.py [--mode compose|tools] [--limit N]``. Starts the model server
(tests/llama_server.py) and ``mlagent serve`` with ``MLAGENT_LLM=openai``, sends 22 varied requests (each in a
fresh thread, a few follow-ups in the same one) and prints, per turn: latency, tokens generated (llama.cpp's
metrics), the tool the turn reached, the tool it should reach, and whether the reply claims a result no tool
produced (``agent.llm.grounding`` on the model-written part, against the turn's tool results). The server log's
"draft cut" lines count how often the model's raw draft invented something that the agent then left out.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.llm.grounding import grounded_prefix
from tests.conftest import free_port, start_server
from tests.llama_server import LlamaServer, fetch_model
from tests.samples import PLAIN_LOOP, TINY_LIGHTNING

# (request, expected tool or None for a direct answer, follow-up of the previous request's thread)
CASES: list[tuple[str, str | None, bool]] = [
    ("hi there!", None, False),
    ("what can you do for me?", None, False),
    (f"please review my training code\n```python\n{PLAIN_LOOP}```", "review_code", False),
    ("fix the issues", "review_code", True),
    (
        f"can you check this lightning module for problems?\n```python\n{TINY_LIGHTNING}```",
        "review_code",
        False,
    ),
    (
        "which architecture should I use for real-time object detection on a Jetson, 5 classes?",
        "recommend_architecture",
        False,
    ),
    ("generate it with 5 classes", "generate_project", True),
    ("recommend a model for semantic segmentation of satellite images", "recommend_architecture", False),
    (
        "what backbone would you pick for classifying 20 kinds of leaves on a phone?",
        "recommend_architecture",
        False,
    ),
    ("generate a classification project with resnet18 and 10 classes", "generate_project", False),
    ("write me a segmentation project: unet, 3 classes, 256 px images", "generate_project", False),
    ("why does gradient clipping matter?", "answer_question", False),
    ("what is mixed precision training and when should I use bf16?", "answer_question", False),
    ("how do I avoid data leakage between train and validation splits?", "answer_question", False),
    ("what does the seeding checklist item mean?", "explain_checklist_item", False),
    ("explain the metric-prefixes item of your checklist", "explain_checklist_item", False),
    ("list my experiments", "list_experiments", False),
    ("show me the runs recorded so far", "list_experiments", False),
    ("which learning-rate scheduler is a good default for fine-tuning a ViT?", "answer_question", False),
    (f"is there anything wrong with this?\n```python\n{PLAIN_LOOP}```", "review_code", False),
    ("what augmentations help for small medical image datasets?", "answer_question", False),
    ("thanks, that's all", None, False),
]


def flatten(value: object) -> str:
    """Every string and number inside a tool result, one per line (the text the model was given)."""
    if isinstance(value, dict):
        return "\n".join(flatten(item) for item in value.values())
    if isinstance(value, list):
        return "\n".join(flatten(item) for item in value)
    return str(value)


def model_part(reply: str, tool_texts: list[str]) -> str:
    """The reply without the tools' own rendered answers (what is left: the model's prose and the planner's
    fixed connecting sentences)."""
    for text in tool_texts:
        reply = reply.replace(text.strip(), "")
    return reply


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["compose", "tools"], default="compose")
    parser.add_argument("--limit", type=int, default=len(CASES))
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--out", type=Path, help="write every request and reply to this JSON file")
    args = parser.parse_args()
    with LlamaServer(fetch_model(), free_port()) as llama, tempfile.TemporaryDirectory() as scratch:
        env = {
            "MLAGENT_LLM": "openai",
            "OPENAI_BASE_URL": llama.url,
            "MLAGENT_MODEL": "SmolLM2-135M-Instruct",
            "MLAGENT_LLM_MODE": args.mode,
            "MLAGENT_LLM_MAX_TOKENS": str(args.max_tokens),
            "MLAGENT_LLM_CONTEXT_TOKENS": "4096",
            "MLAGENT_LLM_TIMEOUT_S": "180",
            "MLAGENT_LLM_ON_ERROR": "error",
        }
        agent = start_server(Path(scratch) / "data", env=env, timeout_s=180)
        rows: list[tuple[str, float, float, str | None, str | None, bool, str]] = []
        thread: str | None = None
        replies: list[dict[str, object]] = []
        try:
            with httpx.Client(base_url=agent.url, timeout=600) as client:
                for text, expected, follow_up in CASES[: args.limit]:
                    before = llama.tokens_predicted()
                    started = time.perf_counter()
                    body = {"message": text, **({"thread_id": thread} if follow_up and thread else {})}
                    response = client.post("/v1/chat", json=body)
                    latency = time.perf_counter() - started
                    tokens = llama.tokens_predicted() - before
                    if response.status_code != 200:
                        rows.append(
                            (text, latency, tokens, f"HTTP {response.status_code}", expected, False, "-")
                        )
                        continue
                    data = response.json()
                    thread = data["thread_id"]
                    tools = [call["name"] for call in data["tool_calls"]]
                    reached = tools[0] if tools else None
                    history = client.get(f"/v1/threads/{thread}").json()["messages"]
                    count = len(data["tool_calls"])
                    tool_texts = (
                        [m["content"] for m in history if m["role"] == "tool"][-count:] if count else []
                    )
                    sources = "\n".join(
                        [text, flatten([call["result"] for call in data["tool_calls"]]), *tool_texts]
                    )
                    replies.append({"request": text, "reply": data["reply"], "tools": tools})
                    _, claim = grounded_prefix(model_part(data["reply"], tool_texts), sources, tools)
                    rows.append(
                        (text, latency, tokens, reached, expected, bool(reached == expected), claim or "")
                    )
        finally:
            log = agent.log()
            agent.stop()
    cut = log.count("model draft cut at an unsupported sentence")
    if args.out:
        args.out.write_text(json.dumps(replies, indent=1))
    print(f"\nSmolLM2-135M-Instruct Q4_1, llama.cpp (xllamacpp) 1 thread, mode={args.mode}\n")
    print("| # | request | latency s | tokens | tool reached | expected | right | unsupported claim |")
    print("|---|---|---|---|---|---|---|---|")
    for index, (text, latency, tokens, reached, expected, right, claim) in enumerate(rows, 1):
        shown = text.splitlines()[0][:48]
        print(
            f"| {index} | {shown} | {latency:.1f} | {tokens:.0f} | {reached or '(none)'} | {expected or '(none)'} "
            f"| {'yes' if right else 'NO'} | {claim[:60]} |"
        )
    latencies = [row[1] for row in rows]
    correct = sum(1 for row in rows if row[5])
    claims = sum(1 for row in rows if row[6] and row[6] != "-")
    print(
        f"\nturns {len(rows)}; latency median {statistics.median(latencies):.1f} s, max {max(latencies):.1f} s; "
        f"tokens generated {sum(row[2] for row in rows):.0f}; right tool {correct}/{len(rows)}; "
        f"replies claiming results no tool produced {claims}/{len(rows)}; raw drafts cut by the grounding "
        f"check {cut}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
