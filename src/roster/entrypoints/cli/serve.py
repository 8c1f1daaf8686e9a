"""`roster serve` and `roster worker`: the web server, the background work, or both.

`roster serve` answers requests and runs the background ticks (bulk jobs, automations,
the outbox); `--no-background` leaves those to `roster worker` processes, so the two
scale apart. Both stop gracefully on SIGTERM: the server stops accepting, lets
in-flight requests finish (up to ROSTER_SHUTDOWN_SECONDS), then hands back the
leases of the jobs this process runs, so another process resumes them at once.
"""

import os
import signal
import socket
import tempfile
import threading
from typing import Literal

import typer

from roster.config import get_settings
from roster.entrypoints.cli.common import container

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def count_across_workers() -> None:
    """Give prometheus-client a directory where every worker process adds its request
    counts, so a scrape answered by any worker reports them all. Set before any
    worker starts (they inherit it); an operator's own directory is kept."""
    if not os.environ.get(MULTIPROCESS_DIR):
        os.environ[MULTIPROCESS_DIR] = tempfile.mkdtemp(prefix="roster-metrics-")


def configure_logs(format: Literal["json", "text"] | None) -> None:
    from roster.entrypoints.web.logs import configure

    configure(format)


def serve_metrics_apart(host: str) -> None:
    """With ROSTER_METRICS_PORT, /metrics is served there (by this supervising
    process, for all workers) and not on the public port."""
    port = get_settings().metrics_port
    if port is None:
        return
    from prometheus_client import start_http_server

    from roster.entrypoints.web.metrics import registry_for

    c = container()
    start_http_server(port, addr=host, registry=registry_for(c.engine, c.clock))
    typer.echo(f"Metrics on http://{host}:{port}/metrics")


def serve(
    host: str | None = typer.Option(
        None,
        show_default=False,
        help="Address to listen on (default: ROSTER_HOST, else 127.0.0.1).",
    ),
    port: int | None = typer.Option(
        None, show_default=False, help="Port to listen on (default: ROSTER_PORT, else 8000)."
    ),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
    background: bool = typer.Option(
        True, "--background/--no-background", help="Also run bulk jobs, automations, outbox."
    ),
) -> None:
    """Serve the dashboard, the REST API and SCIM."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    settings = get_settings()
    host = settings.host if host is None else host
    port = settings.port if port is None else port
    count_across_workers()  # before anything imports prometheus-client
    configure_logs(settings.log_format)
    serve_metrics_apart(host)
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again to the
    # handler it found: a no-op one lets the process exit 0, as supervisors expect.
    signal.signal(signal.SIGTERM, lambda *_: None)
    config = uvicorn.Config(
        f"roster.entrypoints.web.app:{'serve_app' if background else 'web_app'}",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_config=None,  # each process's lines are set up by configure_logs
        access_log=False,  # RequestLog writes each request's line, with its id
        timeout_graceful_shutdown=get_settings().shutdown_seconds,
    )
    if workers == 1:
        server = uvicorn.Server(config)
        server.run()
        if not server.started:  # the port was taken, the app failed to load
            raise typer.Exit(3)
        return
    Multiprocess(config, sockets=[tcp_socket(host, port)]).run()


def tcp_socket(host: str, port: int) -> socket.socket:
    """The listening socket the worker processes share. uvicorn's own is made with
    protocol 0, so asyncio does not set TCP_NODELAY on its connections, and every
    answer written in two parts waits ~40 ms for the client's delayed ACK. Naming
    TCP here gives each connection TCP_NODELAY, as with one worker."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def worker(
    host: str = typer.Option("127.0.0.1", help="Address of ROSTER_METRICS_PORT, if set."),
    interval: float = typer.Option(1.0, min=0.05, help="Seconds between rounds of ticks."),
) -> None:
    """Run only the background work (bulk jobs, automations, outbox), until SIGTERM."""
    from roster.entrypoints.web.background import start

    count_across_workers()  # before anything imports prometheus-client
    configure_logs(get_settings().log_format)
    serve_metrics_apart(host)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    stop = start(container(), interval)
    typer.echo("Worker running; SIGTERM stops it.")
    stopping.wait()
    stop()
    typer.echo("Worker stopped; the jobs it ran are handed back.")
