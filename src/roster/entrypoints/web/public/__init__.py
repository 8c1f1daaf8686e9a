"""Public pages that need no account: accepting an invitation."""
