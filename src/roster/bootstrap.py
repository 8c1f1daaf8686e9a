"""Wires the real adapters to the services: one engine per process."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from roster.adapters.database import make_engine
from roster.adapters.unit_of_work import SqlUnitOfWork
from roster.config import Settings, get_settings
from roster.services.jobs import Tuning


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Container:
    settings: Settings
    engine: Engine
    clock: Callable[[], datetime] = utcnow

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)

    @property
    def jobs(self) -> Tuning:
        """How the job runner paces bulk actions and automation runs."""
        return Tuning.of(self.settings, self.engine)


def bootstrap(settings: Settings | None = None) -> Container:
    settings = settings or get_settings()
    return Container(settings=settings, engine=make_engine(settings.database_url))
