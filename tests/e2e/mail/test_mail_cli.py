"""The command line prints links under ROSTER_PUBLIC_URL, as the emails carry them."""

import subprocess
import sys
from pathlib import Path


def _roster(env: dict[str, str], *args: str) -> str:
    exe = str(Path(sys.executable).with_name("roster"))
    done = subprocess.run([exe, *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout


def test_init_demo_and_an_invitation_print_addresses_under_the_public_url(
    tmp_path: Path,
) -> None:
    env = {
        "ROSTER_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "ROSTER_PUBLIC_URL": "https://people.example.com/",
        "PATH": "/usr/bin:/bin",
    }
    assert "Sign in at https://people.example.com/admin" in _roster(env, "init", "--demo")
    link = _roster(env, "invitations", "create", "new@demo.example", "-w", "demo")
    assert link.startswith("https://people.example.com/invitations/")
