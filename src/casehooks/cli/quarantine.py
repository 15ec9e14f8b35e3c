"""``casehooks quarantine list|reprocess|purge``."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from casehooks.cli.common import opened_store, progress_bar, who_runs
from casehooks.cli.output import emit, emit_page
from casehooks.errors import BadFilter
from casehooks.settings import Settings
from casehooks.signing import Authenticator
from casehooks.store import Store
from casehooks.store.reads import page_quarantine

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
    before: Annotated[str | None, typer.Option(help="Page cursor (`next` of the last page).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List refused requests with their reasons (headers masked, bodies never shown), with the total."""
    shown = None if status is HeldState.all else status.value
    with opened_store() as store, store.engine.connect() as connection:
        try:
            page = page_quarantine(connection, status=shown, limit=limit, before=before)
        except BadFilter as exc:
            raise typer.BadParameter(str(exc)) from None
    columns = ["id", "received_at", "reason", "status_code", "size", "body_kept", "status", "detail"]
    emit_page(page, columns, as_json=as_json, noun="request(s)", again=f"casehooks quarantine list --status {status}")


@quarantine_app.command("reprocess")
def reprocess_command(
    record_ids: Annotated[list[str] | None, typer.Argument(help="Quarantine ids; every held one when omitted.")] = None,
    reason: Annotated[str | None, typer.Option(help="Only held requests refused for this reason.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would happen to each request; change nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before reprocessing every held request.")] = False,
    trust: Annotated[
        bool, typer.Option("--trust", help="Accept without authentication (you vouch for them; audited).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Run held requests through the checks again, with the current secrets; genuine events are accepted."""
    from casehooks.receiver.reprocess import reprocess
    from casehooks.receiver.service import authenticator_from
    from casehooks.store.bulk import HeldSelection, matching_held

    settings = Settings()
    authenticator = authenticator_from(settings)
    if not authenticator.required and not trust:
        typer.echo(
            "warning: no CASEHOOKS_WEBHOOK_SECRET or auth header is set here: requests refused for their "
            "authentication stay held (set the secret, or pass --trust to vouch for them).",
            err=True,
        )
    everything = not record_ids and reason is None
    with opened_store(settings) as store:
        if not record_ids:
            with store.engine.connect() as connection:
                record_ids = matching_held(connection, HeldSelection(reason=reason))
        if dry_run:
            planned = _dry_run(store, authenticator, record_ids, trust=trust)
            emit(planned, ["id", "reason", "would"], as_json=as_json, title=f"dry run: {len(planned)} request(s)")
            return
        if not record_ids:
            emit([], ["id", "outcome", "event_id", "reason"], as_json=as_json, title="nothing is held")
            return
        if everything and not yes and not typer.confirm(f"Reprocess all {len(record_ids)} held request(s)?"):
            raise typer.Exit(1)
        results = []
        with progress_bar("reprocessing", len(record_ids)) as advance:
            for record_id in record_ids:
                results.append(reprocess(store, authenticator, record_id, trust=trust, operator=f"cli:{who_runs()}"))
                advance(1)
    rows = [{"id": r.record_id, "outcome": r.outcome, "event_id": r.event_id, "reason": r.reason} for r in results]
    emit(rows, ["id", "outcome", "event_id", "reason"], as_json=as_json, title="reprocessed")


def _dry_run(store: Store, authenticator: Authenticator, record_ids: list[str], *, trust: bool) -> list[dict[str, str]]:
    """What reprocessing would do to each request: the same checks, with nothing written."""
    from sqlalchemy import select

    from casehooks.receiver.intake import check
    from casehooks.receiver.reprocess import UNVERIFIABLE
    from casehooks.store.quarantine import Refusal, open_held
    from casehooks.store.tables import QuarantineRow

    rows = []
    with store.engine.connect() as connection:
        for record_id in record_ids:
            reason = connection.execute(select(QuarantineRow.reason).where(QuarantineRow.id == record_id)).scalar()
            request = open_held(connection, store.vault, record_id)
            if reason is None or request is None:
                would = "nothing (no body kept)" if reason else "nothing (unknown id)"
            elif not trust and not authenticator.required and str(reason).startswith("auth_"):
                would = f"stay held: {UNVERIFIABLE}"
            else:
                checked = check(Authenticator() if trust else authenticator, request.body, request.headers)
                would = f"stay held: {checked.reason}" if isinstance(checked, Refusal) else "accept"
            rows.append({"id": record_id, "reason": str(reason or ""), "would": would})
    return rows


@quarantine_app.command("purge")
def purge_command() -> None:
    """Delete held requests whose events are stored after all (a commit that landed after its 503), bodies too."""
    from casehooks.store.engine import writer
    from casehooks.store.quarantine import purge_all_stored

    with opened_store() as store, writer(store.engine).begin() as connection:
        deleted = purge_all_stored(connection)
    typer.echo(f"{deleted} held request(s) of stored events deleted")
