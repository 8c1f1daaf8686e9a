"""What leaving Active takes away."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Revoked:
    """Counts of what a change revoked, returned to the caller."""

    sessions: int = 0
    tokens: int = 0
    invitations: int = 0
    automations: int = 0

    def __add__(self, other: "Revoked") -> "Revoked":
        return Revoked(
            self.sessions + other.sessions,
            self.tokens + other.tokens,
            self.invitations + other.invitations,
            self.automations + other.automations,
        )
