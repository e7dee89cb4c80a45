"""The one error shape of the HTTP contract: ``{"error": {"code", "message", "details"}}`` with a 4xx status."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Raise from any endpoint (or a tool called by one) to answer with the contract's JSON error body."""

    def __init__(
        self, status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers

    def body(self) -> dict[str, Any]:
        """The JSON body sent to the client."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class UsageError(Exception):
    """Bad CLI usage or unreadable input: the CLI prints the message on one line and exits with code 2."""
