"""How tool steps read in ``/v1/chat/completions`` content: one line by default, full blocks on request.

The results are real: a review of a real sample by the review engine, a recommendation by the recommender.
"""

from __future__ import annotations

import html
import json

from agent.api.openai_compat import DETAILS_MODEL_ID, MODEL_ID, present_tool, tool_summary
from agent.chat import ToolCallRecord
from tests.samples import PLAIN_LOOP
from tools.review import ReviewRequest, review


def _review_call() -> ToolCallRecord:
    report = review(ReviewRequest(code=PLAIN_LOOP)).model_dump(exclude_none=True)
    return ToolCallRecord("call-1", "review_code", {"code": PLAIN_LOOP}, report)


def test_a_review_reads_as_one_line_with_its_score_and_counts() -> None:
    call = _review_call()
    line = tool_summary(call)
    summary = call.result["summary"]
    failing = sum(1 for item in call.result["checklist"] if item["status"] == "fail")
    assert line.startswith("> Ran `review_code`: ") and line.endswith("\n\n") and line.count("\n") == 2
    assert f"score {summary['score']}, {summary['errors']} errors, {summary['warnings']} warnings" in line
    assert f"{failing} checklist items fail" in line
    assert "<details" not in line and "&quot;" not in line and len(line) < 200


def test_failures_lists_and_plain_results_are_summarised() -> None:
    failed = ToolCallRecord("c", "smoke_run", {}, {"error": "the sandbox is not available"})
    assert tool_summary(failed) == "> Ran `smoke_run`: failed: the sandbox is not available\n\n"
    run = {"status": "succeeded", "steps": 3, "losses": [2.0, 1.5, 1.0123]}
    assert "succeeded; 3 steps, loss 2 → 1.012" in tool_summary(ToolCallRecord("c", "smoke_run", {}, run))
    listing = {"experiments": [{"id": "a"}, {"id": "b"}]}
    assert tool_summary(ToolCallRecord("c", "list_experiments", {}, listing)).endswith(": 2 experiments\n\n")
    answer = {"markdown": "### Multi-label image classification\nSeveral labels per image."}
    assert ": Multi-label image classification\n\n" in tool_summary(
        ToolCallRecord("c", "answer_question", {}, answer)
    )
    assert tool_summary(ToolCallRecord("c", "explain", {}, None)) == "> Ran `explain`\n\n"


def test_the_details_model_keeps_the_full_block() -> None:
    call = _review_call()
    assert present_tool(call, MODEL_ID) == tool_summary(call)
    block = present_tool(call, DETAILS_MODEL_ID)
    assert block.startswith('<details type="tool_calls" done="true" name="review_code"')
    result = block.split('result="', 1)[1].split('">', 1)[0]
    assert json.loads(html.unescape(result))["summary"] == call.result["summary"]
