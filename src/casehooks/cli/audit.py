"""``casehooks audit list|verify``, and the audit rows of what the command line itself reads or changes.

The command line acts as the operating-system user (or ``--as NAME`` / ``CASEHOOKS_AUDIT_AS``), from
``cli@<host>``; a read of PHI is written to the audit log before the data is shown.
"""

from __future__ import annotations

import socket
from datetime import datetime
from typing import Annotated

import typer

from casehooks.cli.common import opened_store, who_runs
from casehooks.cli.output import emit_page
from casehooks.store import Store, accounts
from casehooks.store.audit import AuditEntry, trail_for
from casehooks.store.engine import writer

audit_app = typer.Typer(
    help="The audit log: who read PHI or acted, and whether the log is intact.", no_args_is_help=True
)


def cli_entry(as_user: str | None, action: str, object_type: str, object_id: str | None, at: datetime) -> AuditEntry:
    username = (as_user or who_runs())[:80]
    return AuditEntry(at, username, "cli", action, object_type, object_id, f"cli@{socket.gethostname()}"[:100])


def audit_read(store: Store, as_user: str | None, action: str, object_type: str, object_id: str | None) -> None:
    """Write the audit row of a read of PHI from the command line, in its own committed transaction."""
    with writer(store.engine).begin() as connection:
        accounts.audit(
            connection, store.vault.keyring, cli_entry(as_user, action, object_type, object_id, store.clock())
        )


@audit_app.command("list")
def list_command(
    user: Annotated[str | None, typer.Option(help="Only rows of this user.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 200,
    before: Annotated[str | None, typer.Option(help="Page cursor (`next` of the last page).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The newest audit rows first, with the total."""
    from casehooks.errors import BadFilter
    from casehooks.store.reads import page_audit

    with opened_store() as store, store.engine.connect() as connection:
        try:
            page = page_audit(connection, username=user, limit=limit, before=before)
        except BadFilter as exc:
            raise typer.BadParameter(str(exc)) from None
    columns = ["id", "at", "username", "via", "client", "action", "object_type", "object_id"]
    again = "casehooks audit list" + (f" --user {user}" if user else "")
    emit_page(page, columns, as_json=as_json, noun="row(s)", again=again)


@audit_app.command("verify")
def verify_command() -> None:
    """Check every row's MAC against the chain; exit 1 and name the first broken row if the log was altered."""
    with opened_store() as store:
        verdict = trail_for(store.vault.keyring).verify(store.engine)
    if verdict.intact:
        note = f" ({verdict.unchained} from before the chain)" if verdict.unchained else ""
        typer.echo(f"audit log intact: {verdict.checked} row(s) checked{note}")
        return
    typer.echo(f"audit log broken at row {verdict.broken_at}: {verdict.reason}", err=True)
    raise typer.Exit(1)
