"""``casehooks schema`` and ``casehooks inspect``: the wire format, and one body read against it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from casehooks.errors import SchemaError
from casehooks.events import event_json_schema, parse_event


def schema(
    event: Annotated[str | None, typer.Argument(help="An event type, e.g. ADD_CASE_COMMENT; all when omitted.")] = None,
) -> None:
    """Print the JSON Schema of the webhook wire format."""
    typer.echo(json.dumps(event_json_schema(event), indent=2))


def inspect(
    path: Annotated[str, typer.Argument(help="A file holding one webhook body, or - for standard input.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Read one webhook body and report its type, ids and every deviation from the documentation."""
    raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    try:
        event = parse_event(raw)
    except SchemaError as exc:
        typer.echo(f"not a readable event: {exc}", err=True)
        raise typer.Exit(2) from None
    summary = {
        "event": event.type,
        "model": type(event).__name__,
        "case_id": event.case.id if event.case else None,
        "activity_id": event.activity.id if event.activity else None,
        "attachments": len(event.attachments()),
        "deviations": [deviation.to_dict() for deviation in event.deviations],
    }
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    console = Console()
    console.print(
        f"[bold]{summary['event']}[/] read as {summary['model']}: case {summary['case_id']}, "
        f"activity {summary['activity_id']}, {summary['attachments']} attachment(s)"
    )
    table = Table("path", "kind", "documented", "received", title=f"{len(event.deviations)} deviation(s)")
    for deviation in event.deviations:
        table.add_row(deviation.path, deviation.kind.value, deviation.documented, deviation.received)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command()(schema)
    app.command()(inspect)
