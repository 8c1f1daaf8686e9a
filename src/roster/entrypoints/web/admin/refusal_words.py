"""Refusal codes in the words an admin uses ("Refused: this user is Blocked"); the
code itself stays available as a tooltip."""

from roster.entrypoints.web.admin.rendering import label

WHY = {
    "user_blocked": "this user is Blocked",
    "transition_not_allowed": "this change is not allowed from their status",
    "cannot_change_own_status": "you cannot change your own status",
    "last_owner": "they are the last active Owner",
    "seat_limit_reached": "the workspace has no seat left",
    "reason_required": "a reason is needed",
    "version_conflict": "the user changed meanwhile",
    "not_found": "there is no such user in this workspace",
}


def why_refused(code: str | None) -> str:
    """`user_blocked` → `this user is Blocked` (unknown codes as plain words)."""
    return WHY.get(code or "", label(code or "refused").lower())
