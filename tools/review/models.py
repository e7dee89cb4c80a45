"""The review tool's input and output models: the JSON contract shared by the CLI, HTTP and the agent."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Status = Literal["pass", "fail", "unknown", "not_applicable"]
Severity = Literal["error", "warning", "info"]
OutputFormat = Literal["json", "text", "sarif", "github", "markdown"]

#: Limits on what one review accepts. They keep a single request from pinning a worker for long.
MAX_FILES = 500
MAX_FILE_BYTES = 1_000_000
MAX_TOTAL_BYTES = 8_000_000
# A file path: not blank and no NUL (what _exactly_one_input checks), as a JSON Schema pattern.
# One explicit character class, so that JSON Schema (ECMA regex) and this server agree on what a valid path is
# (Python's str.strip() and \s also treat \x1c-\x1f as blanks; ECMA's \s does not).
_FILE_PATH_PATTERN = r"^[^\x00]*[^\x00 \t\n\r\f\v][^\x00]*$"


FILE_PATH_PATTERN = _FILE_PATH_PATTERN


def valid_file_path(path: str) -> bool:
    """A non-empty path with no NUL and at least one character that is not a space, tab or line break."""
    return re.fullmatch(_FILE_PATH_PATTERN, path, flags=re.DOTALL) is not None


class ReviewRequest(BaseModel):
    """What to review: one code snippet (``code``) or a project (``files``: path -> text, YAML configs too)."""

    # The schema extras document what _exactly_one_input enforces, so that clients and fuzzers see the rules.
    code: str | None = Field(
        default=None,
        description=f"One Python snippet or file to review (not blank, at most {MAX_FILE_BYTES} bytes of UTF-8).",
        json_schema_extra={"pattern": r"\S"},
    )
    files: dict[str, str] | None = Field(
        default=None,
        description=f"A project: relative path -> file text (Python and Hydra/OmegaConf YAML); 1 to {MAX_FILES} "
        f"files, each at most {MAX_FILE_BYTES} bytes, {MAX_TOTAL_BYTES} bytes in all.",
        json_schema_extra={
            "minProperties": 1,
            "maxProperties": MAX_FILES,
            "propertyNames": {"pattern": _FILE_PATH_PATTERN},
        },
    )
    fix: bool = Field(default=False, description="Apply the safe autofixes and return the fixed files.")
    select: list[str] | None = Field(
        default=None,
        description="Only these rules: codes (MLR006), code prefixes (MLR0), names or checklist ids.",
    )
    ignore: list[str] | None = Field(default=None, description="Skip these rules (same forms as select).")
    format: OutputFormat = Field(default="json", description="How the report is rendered for people/CI.")

    # Exactly one of code and files (the other absent or null).
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["code"], "properties": {"code": {"type": "string"}}},
                {"required": ["files"], "properties": {"files": {"type": "object"}}},
            ]
        }
    )

    @model_validator(mode="after")
    def _exactly_one_input(self) -> ReviewRequest:
        if (self.code is None) == (self.files is None):
            raise ValueError("give exactly one of 'code' (a snippet) or 'files' (path -> text)")
        if self.code is not None:
            if not self.code.strip():
                raise ValueError("'code' is empty: nothing to review")
            if len(self.code.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
                raise ValueError(f"'code' is larger than {MAX_FILE_BYTES} bytes")
        if self.files is not None:
            if not self.files:
                raise ValueError("'files' is empty: nothing to review")
            if len(self.files) > MAX_FILES:
                raise ValueError(f"too many files: {len(self.files)} (at most {MAX_FILES})")
            total = 0
            for path, text in self.files.items():
                if not valid_file_path(path):
                    raise ValueError(f"invalid file path {path!r}")
                size = len(text.encode("utf-8", "surrogatepass"))
                if size > MAX_FILE_BYTES:
                    raise ValueError(f"file {path!r} is larger than {MAX_FILE_BYTES} bytes")
                total += size
            if total > MAX_TOTAL_BYTES:
                raise ValueError(f"the files total {total} bytes (at most {MAX_TOTAL_BYTES})")
        return self


class Finding(BaseModel):
    """One problem at one place. Lines and columns are 1-based; ``checklist`` is None only for parse errors."""

    rule: str
    name: str
    checklist: str | None
    severity: Severity
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    suggestion: str
    fixable: bool = False
    fixed: bool | None = Field(
        default=None,
        description="Only when fixes were asked for: whether the applied fixes removed this finding.",
    )


class ChecklistItem(BaseModel):
    """The verdict on one of the 14 checklist items, with the evidence it rests on."""

    id: str
    title: str
    status: Status
    evidence: str
    findings: list[str] = Field(default_factory=list, description="Rule codes that failed this item.")


class Summary(BaseModel):
    """Counts and a score: the share of decided (pass/fail) checklist items that pass, 0-100.

    ``score`` is null when no item could be decided (every file unparseable, or nothing the checklist is
    about): a number there would claim a verdict the reviewer never reached.
    """

    files: int
    errors: int
    warnings: int
    infos: int = 0
    score: float | None = Field(
        description="Percent of decided (pass/fail) checklist items that pass; null when none was decided."
    )


class ReviewReport(BaseModel):
    """The review contract: all 14 checklist items in order, the findings, a summary; fixes when asked.

    With fixes asked for, the report stays the review of the code as given (each finding says whether it was
    ``fixed``), and ``after`` is the full review of the fixed code: the original findings never vanish.
    """

    checklist: list[ChecklistItem]
    findings: list[Finding]
    summary: Summary
    fixed_files: dict[str, str] | None = None
    diff: str | None = None
    after: ReviewReport | None = Field(
        default=None, description="Only when fixes were asked for: the review of the fixed code."
    )

    def contract(self) -> dict[str, Any]:
        """The report as the JSON contract (the JSON renderer and ``POST /v1/review``).

        Optional parts that are absent (``fixed_files``, ``diff``, ``after``, a finding's ``fixed``) are left
        out; a null ``summary.score`` or a parse error's null ``checklist`` stays: those nulls are answers.
        """
        data = self.model_dump(mode="json")
        for key in ("fixed_files", "diff", "after"):
            if data[key] is None:
                del data[key]
        if self.after is not None:
            data["after"] = self.after.contract()
        for finding in data["findings"]:
            if finding["fixed"] is None:
                del finding["fixed"]
        return data

    @property
    def current(self) -> ReviewReport:
        """The review of the code as it stands after this run: ``after`` when fixes were applied, else self."""
        return self.after if self.after is not None else self
