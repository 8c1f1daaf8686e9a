"""What the webhook tests share: driving the one delivery engine at a given time,
and reading a delivery's attempts."""

from datetime import datetime

from roster.bootstrap import Container
from roster.domain.webhooks import AttemptRecord
from roster.services import webhooks


def deliver(container: Container, at: datetime, *, allow_private: bool | None = None) -> int:
    """One delivery tick at `at`, as the settings say (or with `allow_private`)."""
    settings = container.settings
    allow = settings.webhook_allow_private if allow_private is None else allow_private
    timeout = settings.webhook_timeout_seconds
    return webhooks.deliver_due(
        container.uow(),
        lambda: at,
        send=webhooks.sender(allow_private=allow, timeout=timeout),
        timeout=timeout,
    )


def attempts(container: Container, workspace_id: str, delivery_id: str) -> list[AttemptRecord]:
    with container.uow().read_only() as read:
        return read.webhooks.attempts(workspace_id, [delivery_id])[delivery_id]
