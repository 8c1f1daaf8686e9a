"""Bearer secrets: made with a CSPRNG, shown once, stored only as a SHA-256 hash.

A token reads `rst.<workspace id>.<secret>`: the workspace part lets every lookup
name its workspace (no query crosses workspaces); the secret has 256 bits, so a
fast hash is enough (there is nothing to brute-force, unlike a password).
"""

import hashlib
import hmac
import re
import secrets

PREFIX = "rst"
_SHAPE = re.compile(r"rst\.([A-Za-z0-9_]{1,40})\.[A-Za-z0-9_-]{32,128}")


def new_token(workspace_id: str) -> str:
    return f"{PREFIX}.{workspace_id}.{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def workspace_of(token: str) -> str | None:
    """The workspace a well-formed token names, or None for anything else."""
    found = _SHAPE.fullmatch(token)
    return found.group(1) if found else None


def same_hash(a: str, b: str) -> bool:
    """Compare two hashes in constant time."""
    return hmac.compare_digest(a.encode(), b.encode())


_SECRET = re.compile(r"(rst\.[A-Za-z0-9_]{1,40}\.)[A-Za-z0-9_-]{32,128}")


def without_secrets(text: str) -> str:
    """`text` with the secret part of every token in it replaced (a sent email's link)."""
    return _SECRET.sub(r"\g<1>[redacted]", text)
