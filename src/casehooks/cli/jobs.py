"""``casehooks jobs list|skip|dead-letter``: handler jobs with their case order, and the operator's release of a
case held back behind a failing job."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from casehooks.cli.audit import cli_entry
from casehooks.cli.common import AsFlag, opened_store
from casehooks.cli.output import emit

jobs_app = typer.Typer(help="Handler jobs: list them (blocked, late), skip or dead-letter one.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]


class JobStatus(StrEnum):
    """The states of a handler job, as ``--status`` accepts them."""

    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    dead = "dead"
    skipped = "skipped"


@jobs_app.command("list")
def list_command(
    case: Annotated[str | None, typer.Option(help="Only jobs of this case id, in case order.")] = None,
    status: Annotated[JobStatus | None, typer.Option(help="Only jobs in this state.")] = None,
    blocked: Annotated[bool, typer.Option("--blocked", help="Only jobs held back behind an earlier one.")] = False,
    late: Annotated[bool, typer.Option("--late", help="Only jobs some handler ran late.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Jobs to list.")] = 200,
    as_json: JsonFlag = False,
) -> None:
    """Jobs, newest first (a case's in case order), with the job each waiting one is blocked by."""
    from casehooks.store import ordering

    with opened_store() as store, store.engine.connect() as connection:
        rows = ordering.list_jobs(
            connection,
            case_id=case,
            status=status.value if status else None,
            blocked=blocked,
            late_only=late,
            limit=limit,
        )
    columns = ["id", "event_type", "case_id", "case_at", "status", "attempts", "blocked_by", "late", "last_error"]
    emit(rows, columns, as_json=as_json, title=f"{len(rows)} job(s)")


def _release(job_id: int, as_user: str | None, action: str) -> None:
    from casehooks.store import accounts, ordering
    from casehooks.store.engine import writer

    with opened_store() as store, writer(store.engine).begin() as connection:
        now = store.clock()
        change = ordering.skip if action == "job_skip" else ordering.dead_letter
        released = change(connection, job_id, now)
        if released is None:
            typer.echo(f"job {job_id} is not waiting, retrying or dead (running, finished or unknown)", err=True)
            raise typer.Exit(1)
        # The same transaction: a release that happened is always in the audit log.
        accounts.audit(connection, store.vault.keyring, cli_entry(as_user, action, "job", str(job_id), now))
    typer.echo(f"job {job_id}: {released.before} -> {released.after}; its case's later jobs may run")


@jobs_app.command("skip")
def skip_command(job_id: int, as_user: AsFlag = None) -> None:
    """Give up a job's remaining handlers for good, releasing the later jobs of its case (audited)."""
    _release(job_id, as_user, "job_skip")


@jobs_app.command("dead-letter")
def dead_letter_command(job_id: int, as_user: AsFlag = None) -> None:
    """Move a job to the dead letters now and release its case; `casehooks events replay` runs it again, late."""
    _release(job_id, as_user, "job_dead_letter")
