"""The API's settings, from YEARWHEEL_* environment variables; bad values fail at start."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.temporal import TemporalConnection
from domain.default_templates import CODE as DEFAULT_CODE

PLACEHOLDERS = frozenset({"", "changeme", "change-me", "secret", "token"})


class Settings(TemporalConnection, BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YEARWHEEL_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///.yearwheel/yearwheel.db"
    task_queue: str = "yearwheel"
    search_attributes: bool = Field(
        default=False,
        description="Start cycles with the search attributes CommitteeId, CommitteeLevel and "
        "CycleYear; the namespace must have them (yearwheel dev and the compose file "
        "register them).",
    )
    cycle_template: str = Field(
        default=DEFAULT_CODE, pattern=r"^[a-z0-9][a-z0-9-]{0,39}$",
        description="The template code cycles take: the version in force for their year.",
    )
    service_token: str = Field(min_length=16, description="The worker's bearer token.")
    idempotency_ttl_hours: int = Field(default=24, ge=1, le=24 * 30)
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    query_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="How long GET /cycles/{id} waits for the workflow."
    )
    update_timeout_seconds: float = Field(
        default=60.0, gt=0, le=600, description="How long complete/extend/waive wait for it."
    )
    signal_redelivery_seconds: float = Field(
        default=15.0, gt=0, le=86_400,
        description="How often the API sends again the signals Temporal did not take.",
    )
    start_concurrency: int = Field(
        default=32, ge=1, le=100,
        description="Workflows a bulk start launches at once; also its rows per transaction.",
    )
    # Notifications (docs/notifications.md).
    smtp_host: str | None = Field(default=None, description="No host: .eml files in mail_dir.")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    mail_from: str = "Yearwheel <yearwheel@localhost>"
    mail_domain: str = Field(default="yearwheel.local", description="Message-ID's right side.")
    mail_dir: str = ".yearwheel/mail"
    public_url: str = Field(default="http://127.0.0.1:8000", description="Links in messages.")
    notify_max_attempts: int = Field(default=8, ge=1, le=100)
    notify_backoff_seconds: float = Field(default=30.0, gt=0, le=86_400)
    notify_lease_seconds: float = Field(default=300.0, gt=0, le=86_400)
    notify_dispatch: bool = Field(
        default=False, description="Run the notification dispatcher in the API process."
    )
    notify_poll_seconds: float = Field(default=5.0, gt=0, le=3600)
    digest_hour: int = Field(
        default=7, ge=0, le=23,
        description="Hour (Asia/Ho_Chi_Minh) the daily digest goes to users who chose it.",
    )

    web_idle_minutes: int = Field(
        default=30, ge=1, le=24 * 60,
        description="A web session ends after this many minutes without a request.",
    )

    @field_validator("service_token")
    @classmethod
    def _not_placeholder(cls, value: str) -> str:
        if value.strip().lower() in PLACEHOLDERS:
            raise ValueError("YEARWHEEL_SERVICE_TOKEN is a placeholder; set a random value")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "YEARWHEEL_DATABASE_URL must use sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        return value


def load_settings() -> Settings:
    """Settings from the environment; raises pydantic.ValidationError naming what is wrong."""
    return Settings()  # type: ignore[call-arg]  # required fields come from the environment
