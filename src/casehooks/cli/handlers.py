"""``casehooks handlers``: the handler registry, the live workers, and retiring a handler gone from the code."""

from __future__ import annotations

from typing import Annotated

import typer

handlers_app = typer.Typer(
    help="Registered handlers and live workers; retire a handler gone from the code.", invoke_without_command=True
)


@handlers_app.callback()
def show(
    context: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the registered handlers, the live workers, and any mismatch between them."""
    if context.invoked_subcommand is not None:
        return
    from casehooks.cli.common import opened_store
    from casehooks.cli.output import emit, print_json

    with opened_store() as store:
        report = store.handler_report()
    if as_json:
        print_json(report)
        return
    rows = [{"handler": name, "live": name not in report["orphaned"]} for name in report["registered"]]
    emit(rows, ["handler", "live"], as_json=False, title=f"{report['live_workers']} live worker(s)")
    if report["differing"]:
        typer.echo("live workers have different handler sets: give every worker the same --app", err=True)
    if report["orphaned"]:
        typer.echo("no live worker has: " + ", ".join(report["orphaned"]) + " (their jobs wait)", err=True)


@handlers_app.command("retire")
def retire(
    name: Annotated[str, typer.Argument(help="The handler's name, as `casehooks handlers` lists it.")],
) -> None:
    """Remove a handler from the registry; jobs that waited only for it are finished."""
    from casehooks.cli.common import opened_store
    from casehooks.store import registry
    from casehooks.store.engine import writer

    with opened_store() as store, writer(store.engine).begin() as connection:
        count = registry.retire(connection, name, store.clock())
    typer.echo(f"retired {name}: {count} waiting job(s) released", err=True)
