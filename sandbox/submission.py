"""What a submission may contain before anything is written to disk: file count, size and safe paths."""

from __future__ import annotations

from pathlib import PurePosixPath

from sandbox.spec import RunSpec

MAX_SUBMISSION_BYTES = 5_000_000
MAX_SUBMISSION_FILES = 500
MAX_PATH_CHARS = 512


def validate_submission(spec: RunSpec) -> str | None:
    """Why the submission must be refused (size, count, unsafe paths), or None."""
    if not spec.files:
        return "the submission has no files"
    if len(spec.files) > MAX_SUBMISSION_FILES:
        return f"too many files: {len(spec.files)} (limit {MAX_SUBMISSION_FILES})"
    total = sum(len(text.encode("utf-8", errors="replace")) for text in spec.files.values())
    if total > MAX_SUBMISSION_BYTES:
        return f"the submission is too large: {total} bytes (limit {MAX_SUBMISSION_BYTES})"
    seen: set[str] = set()
    for raw in spec.files:
        problem = path_problem(raw)
        if problem:
            return f"unsafe file path {raw!r}: {problem}"
        normal = str(PurePosixPath(raw))
        if normal in seen:
            return f"duplicate file path {raw!r}"
        seen.add(normal)
    for normal in seen:
        for parent in PurePosixPath(normal).parents:
            if str(parent) in seen:
                return f"{parent} is both a file and a directory"
    if spec.entrypoint is not None and str(PurePosixPath(spec.entrypoint)) not in seen:
        return f"entrypoint {spec.entrypoint!r} is not one of the submitted files"
    return None


def path_problem(raw: str) -> str | None:
    if not raw or len(raw) > MAX_PATH_CHARS:
        return "empty or too long"
    if "\x00" in raw or "\\" in raw:
        return "contains NUL or backslash"
    path = PurePosixPath(raw)
    if path.is_absolute():
        return "absolute paths are not allowed"
    if any(part in ("..", ".") for part in raw.split("/")):
        return "'..' and '.' components are not allowed"
    if any(len(part) > 255 for part in path.parts):
        return "a path component is longer than 255 characters"
    return None
