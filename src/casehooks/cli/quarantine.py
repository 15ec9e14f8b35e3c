"""``casehooks quarantine list|reprocess|purge``."""

from __future__ import annotations

import getpass
from enum import StrEnum
from typing import Annotated

import typer

from casehooks.cli.common import opened_store, progress_bar
from casehooks.cli.output import emit
from casehooks.settings import Settings
from casehooks.store.reads import list_quarantine

OPERATOR = "cli:" + getpass.getuser()

quarantine_app = typer.Typer(help="Refused requests, kept with their reasons.", no_args_is_help=True)


class HeldState(StrEnum):
    """Which refused requests ``quarantine list`` shows."""

    held = "held"
    reprocessed = "reprocessed"
    all = "all"


@quarantine_app.command("list")
def list_command(
    status: Annotated[HeldState, typer.Option(help="Which requests to list.")] = HeldState.held,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List refused requests with their reasons (headers masked, bodies never shown)."""
    with opened_store() as store, store.engine.connect() as connection:
        rows = list_quarantine(connection, status=None if status is HeldState.all else status.value, limit=limit)
    columns = ["id", "received_at", "reason", "status_code", "size", "body_kept", "status", "detail"]
    emit(rows, columns, as_json=as_json, title=f"{len(rows)} request(s)")


@quarantine_app.command("reprocess")
def reprocess_command(
    record_ids: Annotated[list[str] | None, typer.Argument(help="Quarantine ids; every held one when omitted.")] = None,
    trust: Annotated[
        bool, typer.Option("--trust", help="Accept without authentication (you vouch for them; audited).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Run held requests through the checks again, with the current secrets; genuine events are accepted."""
    from casehooks.receiver.reprocess import reprocess
    from casehooks.receiver.service import authenticator_from

    settings = Settings()
    authenticator = authenticator_from(settings)
    if not authenticator.required and not trust:
        typer.echo(
            "warning: no CASEHOOKS_WEBHOOK_SECRET or auth header is set here: requests refused for their "
            "authentication stay held (set the secret, or pass --trust to vouch for them).",
            err=True,
        )
    with opened_store(settings) as store:
        if not record_ids:
            with store.engine.connect() as connection:
                record_ids = [row["id"] for row in list_quarantine(connection, status="held", limit=1_000_000)]
        results = []
        with progress_bar("reprocessing", len(record_ids)) as advance:
            for record_id in record_ids:
                results.append(reprocess(store, authenticator, record_id, trust=trust, operator=OPERATOR))
                advance(1)
    rows = [{"id": r.record_id, "outcome": r.outcome, "event_id": r.event_id, "reason": r.reason} for r in results]
    emit(rows, ["id", "outcome", "event_id", "reason"], as_json=as_json, title="reprocessed")


@quarantine_app.command("purge")
def purge_command() -> None:
    """Delete held requests whose events are stored after all (a commit that landed after its 503), bodies too."""
    from casehooks.store.engine import writer
    from casehooks.store.quarantine import purge_all_stored

    with opened_store() as store, writer(store.engine).begin() as connection:
        deleted = purge_all_stored(connection)
    typer.echo(f"{deleted} held request(s) of stored events deleted")
