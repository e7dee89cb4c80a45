"""Finding "the code" of a message or thread."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from agent.code_context import extract_code_files, latest_code, strip_code
from tests.samples import PLAIN_LOOP


def test_single_fence_is_submitted_py() -> None:
    files = extract_code_files(f"please review\n```python\n{PLAIN_LOOP}```\nthanks")
    assert list(files) == ["submitted.py"]
    assert files["submitted.py"].startswith("import torch")


def test_named_fences_and_yaml() -> None:
    text = (
        "model.py:\n```python\nimport torch\n```\n"
        "**configs/trainer.yaml**\n```yaml\ngradient_clip_val: 1.0\n```\n"
        "```bash\npython train.py\n```"
    )
    files = extract_code_files(text)
    assert files == {"model.py": "import torch\n", "configs/trainer.yaml": "gradient_clip_val: 1.0\n"}


def test_first_line_comment_names_file() -> None:
    files = extract_code_files("```python\n# train.py\nimport torch\n```\n```python\nx = 1\n```")
    assert set(files) == {"train.py", "snippet_2.py"}


def test_plain_pasted_code() -> None:
    files = extract_code_files(f"review this: {PLAIN_LOOP}")
    assert files["submitted.py"].startswith("import torch")
    assert extract_code_files("is lr = 0.1 too high for fine-tuning?") == {}
    assert extract_code_files("hello there") == {}


def test_unterminated_fence_still_counts() -> None:
    assert extract_code_files("```python\nimport torch\nx = 1")["submitted.py"] == "import torch\nx = 1\n"


def test_strip_code_keeps_only_prose() -> None:
    assert strip_code(f"review this:\n```python\n{PLAIN_LOOP}```").strip() == "review this:"
    assert strip_code(f"what's wrong? {PLAIN_LOOP}").strip() == "what's wrong?"


def test_latest_code_prefers_newest_source() -> None:
    pasted = HumanMessage(content=f"```python\n{PLAIN_LOOP}```")
    fixed = ToolMessage(
        content="report",
        name="review_code",
        tool_call_id="c1",
        artifact={"fixed_files": {"submitted.py": "import lightning\n"}},
    )
    assert latest_code([pasted]) == ({"submitted.py": PLAIN_LOOP}, "the code you pasted")
    files, origin = latest_code([pasted, AIMessage(content="", tool_calls=[]), fixed])  # type: ignore[misc]
    assert files == {"submitted.py": "import lightning\n"} and origin == "the fixed code"
    assert latest_code([HumanMessage(content="hello")]) is None
