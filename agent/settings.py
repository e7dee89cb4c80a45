"""Service configuration, read once from the environment (and an optional ``.env``) by pydantic-settings.

Every part of the service takes its knobs from here so that one documented set of environment variables
configures the CLI, the HTTP server and the agent alike.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """All runtime settings. Environment variables use the ``MLAGENT_`` prefix unless an alias says otherwise."""

    model_config = SettingsConfigDict(env_prefix="MLAGENT_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path(".mlagent"), description="SQLite databases, run workdirs, plots.")
    llm: Literal["offline", "openai"] = Field(
        default="offline", description="Which chat model drives the agent."
    )
    model: str = Field(default="gpt-4o-mini", description="Model name sent to the OpenAI-compatible server.")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    llm_timeout_s: float = Field(default=120.0, gt=0)
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
    log_level: str = "INFO"
    # Smoke runs / sandbox
    smoke_concurrency: int = Field(default=1, ge=1, le=64)
    sandbox_backend: Literal["local", "ray"] = "local"
    sandbox_unsafe: bool = Field(default=False, description="Allow runs without isolation (operators only).")
    smoke_default_steps: int = Field(default=20, ge=1, le=10_000)
    smoke_default_timeout_s: float = Field(default=120.0, gt=0, le=3600)

    @field_validator("openai_base_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

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
