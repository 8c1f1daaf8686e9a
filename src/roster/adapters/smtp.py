"""Sending mail over SMTP with the standard library's `smtplib`.

`SmtpServer.parse` reads ROSTER_SMTP_URL; `send_all` sends a batch over one
connection and says, per message, whether it went, may be retried (a 4xx reply, a
refused or dropped connection) or was refused for good (a 5xx reply, kept as said).
"""

import smtplib
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, parseaddr
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

TIMEOUT = 30  # seconds for connecting and for each reply
Security = Literal["none", "starttls", "tls"]


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    security: Security = "none"

    @classmethod
    def parse(cls, url: str) -> "SmtpServer":
        """`smtp://user:pass@host:587?starttls=true` or `smtps://user:pass@host:465`."""
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError("ROSTER_SMTP_URL must read smtp://user:pass@host:port or smtps://…")
        starttls = parse_qs(parts.query).get("starttls", ["false"])[0].lower()
        security: Security = (
            "tls"
            if parts.scheme == "smtps"
            else "starttls"
            if starttls in {"true", "1", "yes"}
            else "none"
        )
        default_port = {"tls": 465, "starttls": 587, "none": 25}[security]
        return cls(
            host=parts.hostname,
            port=parts.port or default_port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            security=security,
        )


@dataclass(frozen=True, slots=True)
class Sent:
    """One message's outcome: `ok`, or `temporary` (retry later) or not, with the
    server's reply or what went wrong."""

    ok: bool
    temporary: bool = False
    reply: str | None = None


SENT = Sent(ok=True)
Sender = Callable[[SmtpServer, Sequence[Message]], list[Sent]]


def message(*, key: str, sender: str, to: str, subject: str, text: str, html: str) -> Message:
    """A multipart/alternative message whose Message-ID is derived from `key` (the
    event that caused it), so a message sent twice after a crash reads as one.
    (Built with the `email.mime` classes: half the cost of `EmailMessage`'s.)"""
    name, address = parseaddr(sender)
    msg = MIMEMultipart("alternative")
    msg["From"] = formataddr((name, address), "utf-8")
    msg["To"] = to
    msg["Subject"] = subject if subject.isascii() else Header(subject, "utf-8").encode()
    domain = address.rpartition("@")[2] or "roster.localhost"
    msg["Message-ID"] = f"<{key}@{domain}>"
    msg.attach(MIMEText(text, "plain", "utf-8"))
    msg.attach(MIMEText(html, "html", "utf-8"))
    return msg


def send_all(server: SmtpServer, messages: Sequence[Message]) -> list[Sent]:
    """Send `messages` over one connection, in order; one `Sent` per message."""
    try:
        smtp = _connect(server)
    except (OSError, smtplib.SMTPException) as failed:  # refused, unreachable, bad login
        return [Sent(ok=False, temporary=True, reply=_why(failed))] * len(messages)
    results: list[Sent] = []
    try:
        for msg in messages:
            try:
                smtp.send_message(msg)
            except smtplib.SMTPRecipientsRefused as refused:
                code, reply = next(iter(refused.recipients.values()))
                results.append(_answer(code, reply))
            except smtplib.SMTPResponseException as answered:
                results.append(_answer(answered.smtp_code, answered.smtp_error))
            except (OSError, smtplib.SMTPException) as dropped:  # the connection went
                lost = Sent(ok=False, temporary=True, reply=_why(dropped))
                return results + [lost] * (len(messages) - len(results))
            else:
                results.append(SENT)
    finally:
        _close(smtp)
    return results


def _connect(server: SmtpServer) -> smtplib.SMTP:
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if server.security == "tls":
        smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=TIMEOUT, context=context)
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT)
    try:
        if server.security == "starttls":
            smtp.starttls(context=context)
        if server.username:
            smtp.login(server.username, server.password or "")
    except BaseException:
        _close(smtp)
        raise
    return smtp


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _answer(code: int, reply: bytes | str) -> Sent:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
    return Sent(ok=False, temporary=400 <= code < 500, reply=f"{code} {text}")


def _why(failed: Exception) -> str:
    if isinstance(failed, smtplib.SMTPResponseException):
        return _answer(failed.smtp_code, failed.smtp_error).reply or ""
    return f"{type(failed).__name__}: {failed}"
