"""``casehooks serve`` and ``casehooks worker``."""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import socket
from datetime import timedelta
from typing import Annotated

import typer

from casehooks.errors import ConfigurationError
from casehooks.logs import configure_logging
from casehooks.settings import Settings


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [CASEHOOKS_HOST, 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [CASEHOOKS_PORT, 8080].")] = None,
    app: Annotated[str | None, typer.Option("--app", help="Your handlers: module:attribute of a Receiver.")] = None,
    workers: Annotated[int, typer.Option(help="Receiver processes to run.", min=1)] = 1,
) -> None:
    """Run the receiver: the webhook endpoint with its handler worker, on the configured store."""
    import uvicorn

    from casehooks.receiver.asgi import APP_ENV, load_receiver
    from casehooks.store import Store

    settings = Settings()
    if app:
        load_receiver(app)  # fail now, with a clear message, rather than in every server process
        os.environ[APP_ENV] = app
    configure_logging(settings.log_level)
    from casehooks.receiver.protocol import HEADER_TIMEOUT_ENV

    os.environ[HEADER_TIMEOUT_ENV] = str(settings.header_timeout_seconds)  # read by each server process's protocol
    # Start-up mistakes fail here, in one line naming the setting, not as a traceback in every server process.
    Store.open(settings).close()
    check_port_free(host or settings.host, port if port is not None else settings.port)
    typer.echo(
        f"casehooks receiving on http://{host or settings.host}:{port or settings.port}/webhooks/carevalidate",
        err=True,
    )
    uvicorn.run(
        "casehooks.receiver.asgi:create_app",
        factory=True,
        host=host or settings.host,
        port=port if port is not None else settings.port,
        workers=workers,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=10,
        # Hostile input: heads bounded in time and size (the protocol), idle connections closed, and
        # optionally a cap on connections and requests in progress (503 past it).
        http="casehooks.receiver.protocol:GuardedHttpToolsProtocol",
        timeout_keep_alive=5,
        limit_concurrency=settings.limit_concurrency,
    )


def worker(
    app: Annotated[str | None, typer.Option("--app", help="Your handlers: module:attribute of a Receiver.")] = None,
    concurrency: Annotated[int, typer.Option(help="Jobs run at once.", min=1)] = 4,
    drain: Annotated[bool, typer.Option(help="Run the jobs due now, then exit.")] = False,
) -> None:
    """Run a handler worker alone (beside receivers that were started with the same settings)."""
    from casehooks.heap import settle
    from casehooks.receiver.asgi import load_receiver
    from casehooks.receiver.documents import document_policy
    from casehooks.receiver.handlers import Receiver
    from casehooks.receiver.metrics import Metrics
    from casehooks.receiver.worker import Worker
    from casehooks.store import Store

    receiver = load_receiver(app) if app else Receiver(Settings())
    settings = receiver.settings
    configure_logging(settings.log_level)
    store = Store.open(settings)
    runner = Worker(
        store,
        receiver,
        Metrics(),
        concurrency=concurrency,
        max_attempts=settings.handler_max_attempts,
        retry_base=settings.handler_retry_base_seconds,
        documents=document_policy(settings),
        lease=timedelta(seconds=settings.job_lease_seconds),
    )
    settle()

    async def main() -> None:
        if drain:
            count = await runner.drain()
            typer.echo(f"ran {count} job(s)", err=True)
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await runner.run(stop)

    try:
        asyncio.run(main())
    finally:
        runner.close()
        store.close()


def check_port_free(host: str, port: int) -> None:
    """Fail in one line when the address cannot be listened on (in use, not an address of this host)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigurationError(f"cannot listen on CASEHOOKS_HOST/--host={host}: unknown address") from exc
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            reason = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or "refused").lower()
            raise ConfigurationError(f"cannot listen on {host}:{port} (CASEHOOKS_PORT/--port): {reason}") from exc


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(worker)
