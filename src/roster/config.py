"""Settings, read once from the environment (prefix ROSTER_)."""

from functools import lru_cache
from typing import Literal, Self

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ROSTER_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./roster.db"
    """SQLite file by default; `postgresql+psycopg://user@host/db` in production."""

    host: str = "127.0.0.1"
    """The address `roster serve` listens on when `--host` is not given."""

    port: int = 8000
    """The port `roster serve` listens on when `--port` is not given."""

    job_lease_seconds: int = 120
    """How long a bulk action's or automation run's runner holds it without renewing
    (every chunk renews it): a runner that died is taken over once it runs out."""

    job_chunk_size: int = 4000
    """Users per chunk transaction of a bulk action or automation run: short enough
    that a status write waiting behind a chunk waits a fraction of a second (~0.25 s
    on SQLite), long enough that the fixed cost of a chunk (its commit, the lease,
    the pause that lets waiting writers in) is small beside its users'."""

    webhook_allow_private: bool = False
    """Let webhooks go to loopback, private, link-local and other inside addresses
    (ROSTER_WEBHOOK_ALLOW_PRIVATE=true), for local development and tests. Off, a
    webhook address inside the network is refused when saved and at delivery."""

    webhook_timeout_seconds: float = 10.0
    """How long a webhook receiver has to answer (connect, then each read) before
    the attempt counts as failed and is retried later."""

    # --- Mail ---
    public_url: str = ""
    """The absolute base of every link Roster sends or prints (invitations, password
    resets): the address people reach this server at, without a trailing slash.
    Unset: `http://HOST:PORT`, where `roster serve` listens."""

    smtp_url: str | None = None
    """Where mail goes: `smtp://user:pass@host:587?starttls=true` or
    `smtps://user:pass@host:465`. Unset (the default), mail is kept in the database
    and shown on the dashboard's Emails page, not sent."""

    mail_from: str = "Roster <roster@localhost>"
    """The From address of every message."""

    telemetry: bool = False
    """FastAPI's OpenTelemetry spans and metrics, for an operator who installs and
    configures an OpenTelemetry SDK. Off, no request pays for looking for one."""

    metrics_port: int | None = None
    """Serve `GET /metrics` on this port only (ROSTER_METRICS_PORT=9100), and not on the
    public one. Unset, `/metrics` is on the main port beside the API."""

    log_format: Literal["json", "text"] | None = None
    """`json`: one JSON object per line, for a log collector; `text`: readable lines.
    Unset: text on a terminal, JSON otherwise."""

    shutdown_seconds: int = 20
    """On SIGTERM, how long in-flight requests may take to finish before the server
    exits (the leases of the jobs this process runs are handed back at once)."""

    @model_validator(mode="after")
    def _public_url_is_where_serve_listens(self) -> Self:
        if not self.public_url:
            host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host  # noqa: S104
            self.public_url = f"http://{f'[{host}]' if ':' in host else host}:{self.port}"
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
