"""Keep credentials out of the server's logs.

An invitation link carries its token in the path (`/invitations/<token>`), and the
access log writes every path: the secret part of anything shaped like a Roster
token is replaced before a record is written.
"""

import logging
import re

_TOKEN = re.compile(r"(rst\.[A-Za-z0-9_]{1,40}\.)[A-Za-z0-9_-]{16,}")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return _TOKEN.sub(rf"\g<1>{REDACTED}", text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install(names: tuple[str, ...] = ("uvicorn.access", "uvicorn.error")) -> None:
    """Add the filter to the server's loggers (once, however many apps are made)."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
