"""The server's logs: one line per request and per job step, as JSON or as text.

`ROSTER_LOG_FORMAT=json` writes one JSON object per line (time, level, logger,
message, and the request's id, workspace, route template, status and duration when
the line is about a request), for a log collector; `text` writes the same as
readable lines. Unset: text on a terminal, JSON otherwise. Neither holds a secret:
messages pass through the token redaction, and no header or body is logged.
"""

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Literal

from starlette.types import ASGIApp, Receive, Scope, Send

from roster.entrypoints.web.log_redaction import redact
from roster.entrypoints.web.route_templates import Templates, answered

FIELDS = ("request_id", "workspace", "route", "method", "status", "duration_ms", "job", "kind")
requests = logging.getLogger("roster.request")


def fields_of(record: logging.LogRecord) -> dict[str, object]:
    return {name: getattr(record, name) for name in FIELDS if hasattr(record, name)}


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
            **fields_of(record),
        }
        if record.exc_info:
            line["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, default=str)


class TextLines(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(f"{k}={v}" for k, v in fields_of(record).items())
        return redact(super().format(record) + (f" [{extra}]" if extra else ""))


def configure(format: Literal["json", "text"] | None) -> None:
    """Send every logger's lines (uvicorn's too) to stderr in `format`. Called by the
    entry points that run a server or worker, in each process, never by the app."""
    chosen = format or ("text" if sys.stderr.isatty() else "json")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if chosen == "json" else TextLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []  # theirs would write each line twice
        logging.getLogger(name).propagate = True
    access = logging.getLogger("uvicorn.access")  # RequestLog's line says more, with the id
    access.handlers[:], access.propagate = [], False
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its plugin list, at each start


class RequestLog:
    """Pure ASGI: one line per request once it is answered, with its id, workspace,
    route template, status and duration (never its headers, query or body)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app, self.templates = app, Templates()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await answered(self.app, scope, receive, send, lambda s, t: self._log(scope, s, t))

    def _log(self, scope: Scope, status: int, seconds: float) -> None:
        if not requests.isEnabledFor(logging.INFO):
            return
        state = scope.get("state", {})
        route = self.templates.of(scope)
        requests.info(
            "%s %s %d",
            scope["method"],
            route,
            status,
            extra={
                "request_id": state.get("request_id"),
                "workspace": state.get("workspace_id"),
                "route": route,
                "method": scope["method"],
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
            },
        )
