"""The worker's settings, from YEARWHEEL_* environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.temporal import TemporalConnection


class WorkerSettings(TemporalConnection, BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YEARWHEEL_", extra="ignore")

    task_queue: str = "yearwheel"
    api_url: str = "http://127.0.0.1:8000"
    service_token: str = Field(min_length=16)
    max_cached_workflows: int = Field(default=1000, ge=0)
    max_concurrent_activities: int = Field(default=100, ge=1)
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # Longest wait between two attempts of a recording the backend refused (seconds).
    refusal_retry_cap: float = Field(default=300.0, gt=0, le=86_400)
    # Import workflows/ and domain/ once, outside the sandbox (cheaper new cycles, unchecked
    # code: see workflows/sandbox.py). Off: the sandbox checks them, as in tests and replays.
    sandbox_pass_through_own: bool = False


def load_worker_settings() -> WorkerSettings:
    """Settings from the environment; raises pydantic.ValidationError naming what is wrong."""
    return WorkerSettings()  # type: ignore[call-arg]  # required fields come from the environment
