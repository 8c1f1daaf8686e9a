"""Real `roster serve` processes on loopback ports, over one database."""

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROSTER = str(Path(sys.executable).with_name("roster"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    database_url: str
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(
        default_factory=lambda: Path(tempfile.mkstemp(prefix="roster-stress-", suffix=".log")[1])
    )

    def start(self) -> None:
        env = os.environ | self.env | {"ROSTER_DATABASE_URL": self.database_url}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [ROSTER, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"roster serve on port {self.port} did not start")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, as a crash would."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Detected|Violation|Shutdown)\b.*")
_DATABASE_AWAY = (
    "connection failed",
    "terminating connection",
    "server closed the connection",
    "the database system is",
    "consuming input failed",
    "the connection is lost",
    "InvalidatePoolError",
)


def unexpected_exceptions(servers: list["Server"]) -> list[str]:
    """Exceptions the servers logged, other than PostgreSQL being away (its restart)."""
    found = []
    for s in servers:
        for line in s.log.read_text(errors="replace").splitlines():
            if _EXCEPTION.match(line) and not any(a in line for a in _DATABASE_AWAY):
                found.append(f"{s.log.name}: {line[:300]}")
    return found


def start_servers(database_url: str, count: int, env: dict[str, str] | None = None) -> list[Server]:
    servers = [Server(url="", database_url=database_url, env=env or {}) for _ in range(count)]
    for s in servers:
        s.start()
    return servers
