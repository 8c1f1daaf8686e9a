"""What the webhook tests share: a real receiver on loopback, the app allowed to
send there, driving the one delivery engine at a given time, and reading attempts."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from roster.bootstrap import Container
from roster.domain.webhooks import AttemptRecord
from roster.services import webhooks


def deliver(container: Container, at: datetime, *, allow_private: bool | None = None) -> int:
    """One delivery tick at `at`, as the settings say (or with `allow_private`)."""
    settings = container.settings
    allow = settings.webhook_allow_private if allow_private is None else allow_private
    timeout = settings.webhook_timeout_seconds
    with webhooks.sender(allow_private=allow, timeout=timeout) as send:
        return webhooks.deliver_due(container.uow(), lambda: at, send=send, timeout=timeout)


def attempts(container: Container, workspace_id: str, delivery_id: str) -> list[AttemptRecord]:
    with container.uow().read_only() as read:
        return read.webhooks.attempts(workspace_id, [delivery_id])[delivery_id]


@dataclass
class Receiver:
    """What the receiver got, and how it answers: the codes in `answers` in turn
    (then 200, with the body "ok"); `hang` seconds of silence before answering."""

    url: str
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    hang: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def receiving() -> Iterator[Receiver]:
    """A threading HTTP server on 127.0.0.1 that records every POST."""
    state = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            with state.lock:
                state.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                code = state.answers.pop(0) if state.answers else 200
            time.sleep(state.hang)
            self.send_response(code)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_port}/hooks"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def allowing(container: Container, **settings: Any) -> Container:
    """The container as with ROSTER_WEBHOOK_ALLOW_PRIVATE=true (the receiver is on
    loopback), and any other settings given."""
    update = {"webhook_allow_private": True, **settings}
    return replace(container, settings=container.settings.model_copy(update=update))
