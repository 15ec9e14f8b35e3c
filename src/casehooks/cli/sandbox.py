"""``casehooks sandbox serve``: a small case platform that sends real webhooks to your receiver."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from casehooks.settings import Settings

sandbox_app = typer.Typer(help="A small case platform that emits the case webhooks.", no_args_is_help=True)


@sandbox_app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default CASEHOOKS_SANDBOX_PORT, 8090).")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Data folder (holds sandbox.db by default).")] = None,
    database_url: Annotated[str | None, typer.Option(help="The sandbox database URL.")] = None,
    worker: Annotated[bool, typer.Option(help="Run the delivery worker in this process.")] = True,
) -> None:
    """Serve the sandbox API (OpenAPI at /docs) and deliver its events to the registered endpoints."""
    import uvicorn

    from casehooks.sender.app import create_app

    overrides: dict[str, Any] = {"sandbox_worker": worker}
    for name, value in (("host", host), ("sandbox_port", port), ("data_dir", data_dir)):
        if value is not None:
            overrides[name] = value
    if database_url is not None:
        overrides["sandbox_database_url"] = database_url
    settings = Settings(**overrides)
    typer.echo(f"casehooks sandbox on http://{settings.host}:{settings.sandbox_port} (API docs at /docs)", err=True)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.sandbox_port,
        log_level=settings.log_level.lower(),
        access_log=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(sandbox_app, name="sandbox")
