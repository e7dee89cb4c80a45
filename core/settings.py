"""Service configuration, read once from the environment (and an optional ``.env``) by pydantic-settings.

Every part of the service takes its knobs from here so that one documented set of environment variables
configures the CLI, the HTTP server and the agent alike.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/mlagent`` (the XDG base-directory rule: an absolute XDG_DATA_HOME only), else
    ``~/.local/share/mlagent``: one place per user, whatever the current folder."""
    xdg = os.environ.get("XDG_DATA_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "mlagent"


class Settings(BaseSettings):
    """All runtime settings. Environment variables use the ``MLAGENT_`` prefix unless an alias says otherwise."""

    model_config = SettingsConfigDict(env_prefix="MLAGENT_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="SQLite databases, run workdirs, plots; per user by default, so that the CLI and the server "
        "started from any folder share threads and experiments.",
    )
    url: str | None = Field(
        default=None,
        description="The server `mlagent chat` talks to; unset: the server holding data_dir, else in-process.",
    )
    cache_dir: Path = Field(
        default=Path.home() / ".cache" / "mlagent",
        description="Derived files shared by every data dir: the quantised sentence encoder, knowledge vectors.",
    )
    llm: Literal["offline", "openai"] = Field(
        default="offline", description="Which chat model drives the agent."
    )
    model: str = Field(default="gpt-4o-mini", description="Model name sent to the OpenAI-compatible server.")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    # Real LLMs (agent/llm/): bounded answers, chat-sized deadlines, and how the model takes part.
    llm_mode: Literal["auto", "tools", "compose"] = Field(
        default="auto",
        description="tools: the model calls the tools itself; compose: the built-in understanding picks the "
        "tools and the model writes the answer from their results (for small models); auto: compose for "
        "models under 7B parameters (reported by the server or named in the model id), tools otherwise.",
    )
    llm_max_tokens: int = Field(default=512, ge=16, le=32_768, description="Tokens one model answer may use.")
    llm_context_tokens: int = Field(
        default=8192, ge=1024, description="The model's context window; tool results are trimmed to fit it."
    )
    llm_timeout_s: float = Field(default=60.0, gt=0, le=3600, description="Deadline of one model request.")
    llm_max_retries: int = Field(
        default=1, ge=0, le=5, description="Retries after a refused connection or a 429/5xx (not timeouts)."
    )
    llm_on_error: Literal["offline", "error"] = Field(
        default="offline",
        description="When the model fails: offline answers with the built-in planner and says so; error "
        "answers 502 llm_unavailable / 504 llm_timeout.",
    )
    llm_startup_check: bool = Field(
        default=True, description="Probe the OpenAI-compatible server at start-up."
    )
    api_key: SecretStr | None = Field(
        default=None, description="Bearer token required by the HTTP API when set."
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    max_body_bytes: int = Field(default=2_000_000, ge=1024, description="Largest accepted request body.")
    max_message_chars: int = Field(default=200_000, ge=1)
    # Connections and authentication (agent/http_server.py, agent/middleware.py)
    request_read_timeout_s: float = Field(
        default=10.0, gt=0, le=3600, description="Deadline for a request head, and for each pause in a body."
    )
    max_connections: int | None = Field(default=None, ge=1, description="Open connections before 503s.")
    auth_max_failures: int = Field(
        default=10, ge=0, description="Failed API-key attempts per client (0: no limit)."
    )
    auth_failure_window_s: float = Field(default=60.0, gt=0, le=86_400)
    recursion_limit: int = Field(default=24, ge=4, le=200, description="LangGraph super-steps per chat turn.")
    # Thread history (agent/history.py, agent/thread_store.py)
    checkpoint_durability: Literal["exit", "async", "sync"] = Field(
        default="exit", description="exit: one checkpoint per turn; async/sync: one per graph step."
    )
    history_window_messages: int = Field(default=40, ge=4, le=10_000, description="Messages the model reads.")
    history_window_chars: int = Field(default=100_000, ge=1_000, description="Characters the model reads.")
    log_level: str = "INFO"
    otel: bool = Field(
        default=False,
        description="OpenTelemetry traces of requests, chat turns and tool calls (agent/tracing.py), exported "
        "as the standard OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_ENDPOINT say; needs the otel extra.",
    )
    # Threads in PostgreSQL instead of SQLite: several API processes behind one database (agent/storage.py).
    database_url: SecretStr | None = Field(
        default=None, description="postgresql://user:password@host:port/db; unset: SQLite in data_dir."
    )
    database_pool_size: int = Field(default=10, ge=1, le=500, description="Connections per pool and process.")
    database_connect_timeout_s: float = Field(default=10.0, gt=0, le=600)
    # Reviews of submitted code run in worker processes (deadline, memory cap, crash isolation)
    review_workers: int = Field(default=2, ge=1, le=32, description="Review worker processes.")
    review_timeout_s: float = Field(default=20.0, gt=0, le=600, description="Deadline of one review.")
    review_memory_mb: int = Field(default=1536, ge=256, description="Address-space limit of a review worker.")
    review_worker_max_jobs: int = Field(default=200, ge=1, description="Jobs before a worker is replaced.")
    review_strict: bool = Field(
        default=False,
        description="A rule and its checklist judge disagreeing raises (the test suite sets it).",
    )
    debug: bool = Field(default=False, description="The CLI shows tracebacks of internal errors.")
    # Smoke runs / sandbox
    smoke_concurrency: int = Field(default=1, ge=1, le=64)
    sandbox_backend: Literal["local", "ray"] = "local"
    sandbox_unsafe: bool = Field(default=False, description="Allow runs without isolation (operators only).")
    smoke_default_steps: int = Field(default=20, ge=1, le=10_000)
    smoke_default_timeout_s: float = Field(default=120.0, gt=0, le=3600)
    smoke_warm_sandboxes: int = Field(
        default=1,
        ge=0,
        le=16,
        description="Sandboxes kept waiting with torch and Lightning imported, so runs start at once (server).",
    )
    # Approval before costly runs (agent/approval.py): the turn pauses until the user says yes.
    approval: Literal["never", "gpu", "always"] = Field(
        default="gpu", description="Which runs wait for a yes: none, those on a GPU or over budget, or all."
    )
    approval_max_steps: int = Field(default=200, ge=1, description="Runs with more steps need approval.")
    approval_max_seconds: float = Field(
        default=600.0, gt=0, description="Runs allowed to take longer than this need approval."
    )

    @field_validator("openai_base_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not value.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ValueError("only postgresql:// URLs are supported (leave it unset for SQLite)")
        return value

    @property
    def checkpoint_db(self) -> Path:
        """SQLite file holding LangGraph checkpoints (chat threads)."""
        return self.data_dir / "threads.sqlite"

    @property
    def experiments_db(self) -> Path:
        """SQLite file holding smoke runs and experiments."""
        return self.data_dir / "experiments.sqlite"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build ``Settings(...)`` directly instead)."""
    return Settings()
