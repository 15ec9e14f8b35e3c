"""``casehooks events list|show|replay``."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import typer

from casehooks.cli.common import AsFlag, opened_database, opened_store, progress_bar
from casehooks.cli.output import emit, emit_page, print_json
from casehooks.errors import NotFound
from casehooks.events.enums import ActivityType
from casehooks.store.event_list import EventFilter, event_cursor, page_events

events_app = typer.Typer(help="Stored events: list, show, replay their handlers.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]


class JobState(StrEnum):
    """The states of an event's handler job, as ``--status`` accepts them."""

    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    dead = "dead"
    skipped = "skipped"  # given up by an operator (`casehooks jobs skip`)


@events_app.command("list")
def list_command(
    event_type: Annotated[ActivityType | None, typer.Option("--type", help="Only this event type.")] = None,
    case: Annotated[str | None, typer.Option(help="Only events of this case id.")] = None,
    status: Annotated[JobState | None, typer.Option(help="Only events whose job is in this state.")] = None,
    since: Annotated[datetime | None, typer.Option(help="Received at or after (ISO 8601).")] = None,
    until: Annotated[datetime | None, typer.Option(help="Received before (ISO 8601).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Events per page.")] = 50,
    before: Annotated[str | None, typer.Option(help="Page cursor (`next` of the last page): older events.")] = None,
    after: Annotated[str | None, typer.Option(help="Cursor or seq: only newer events.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List stored events, newest first, with the total; the last line (or `next` with --json) is the next page."""
    from casehooks.errors import BadFilter

    try:
        where = EventFilter(
            event_type=event_type.value if event_type else None,
            case_id=case,
            job_status=status.value if status else None,
            since=since,
            until=until,
            limit=limit,
            before_seq=event_cursor(before) if before else None,
            after_seq=event_cursor(after) if after else None,
        )
    except BadFilter as exc:
        raise typer.BadParameter(str(exc)) from None
    with opened_database() as engine, engine.connect() as connection:
        page = page_events(connection, where)
    columns = ["seq", "id", "event_type", "case_id", "received_at", "job_status", "job_attempts", "deviation_count"]
    emit_page(page, columns, as_json=as_json, noun="event(s)", again="casehooks events list")


@events_app.command("show")
def show_command(
    event_id: str,
    reveal: Annotated[
        bool, typer.Option("--reveal/--no-reveal", help="Show the objects' PHI (audited as a read of the event).")
    ] = False,
    as_json: JsonFlag = False,
    as_user: AsFlag = None,
) -> None:
    """One event: its metadata, its typed objects and request headers (masked unless --reveal), deviations, job
    and attempts."""
    from casehooks.cli.audit import audit_read
    from casehooks.store import request_headers
    from casehooks.store.mapping import event_objects
    from casehooks.store.reads import event_detail, event_headers

    with opened_store() as store:
        with store.engine.connect() as connection:
            try:
                detail = event_detail(connection, event_id)
            except NotFound as exc:
                typer.echo(str(exc), err=True)
                raise typer.Exit(1) from None
            headers = event_headers(connection, store.vault, event_id)
        if reveal:
            audit_read(store, as_user, "read_event", "event", event_id)
        detail["objects"] = event_objects(store.load_event(event_id), event_id, reveal=reveal)
        # The request's headers (credentials were never stored); values other than content headers masked.
        detail["headers"] = headers if headers is None or reveal else request_headers.masked(headers)
    if as_json:
        print_json(detail)
        return
    lists = ("deviations", "jobs", "attempts", "objects", "headers")
    summary = {key: value for key, value in detail.items() if key not in lists}
    emit([summary], list(summary), as_json=False, title="event")
    for item in detail["objects"]:
        emit([item], list(item), as_json=False, title=item["kind"])
    if detail["headers"] is not None:
        shown = [{"name": name, "value": value} for name, value in detail["headers"].items()]
        emit(shown, ["name", "value"], as_json=False, title="request headers")
    emit(detail["deviations"], ["path", "kind", "documented", "received"], as_json=False, title="deviations")
    emit(detail["jobs"], ["id", "status", "attempts", "run_at", "last_error"], as_json=False, title="job")
    emit(
        detail["attempts"],
        ["attempt", "handler", "outcome", "error", "started_at", "duration_ms"],
        as_json=False,
        title="handler attempts",
    )


@events_app.command("replay")
def replay_command(
    event_ids: Annotated[list[str] | None, typer.Argument(help="Event ids to replay.")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Every failed or dead job.")] = False,
    event_type: Annotated[ActivityType | None, typer.Option("--type", help="Every event of this type.")] = None,
    since: Annotated[datetime | None, typer.Option(help="With --type or --failed: received at or after.")] = None,
) -> None:
    """Run the handlers of stored events again (the worker of `casehooks serve` picks them up)."""
    from sqlalchemy import select

    from casehooks.store import queue as jobs
    from casehooks.store.engine import writer
    from casehooks.store.tables import EventRow, JobRow

    with opened_store() as store:
        query = select(JobRow.id).join(EventRow, EventRow.id == JobRow.event_id)
        if event_ids:
            query = query.where(EventRow.id.in_(event_ids))
        elif failed:
            query = query.where(JobRow.status.in_(("failed", "dead")))
        elif event_type:
            query = query.where(EventRow.event_type == event_type.value)
        else:
            typer.echo("name event ids, or use --failed or --type", err=True)
            raise typer.Exit(2)
        if since is not None:
            query = query.where(EventRow.received_at >= since)
        with store.engine.connect() as connection:
            job_ids = list(connection.execute(query).scalars())
        replayed = 0
        with progress_bar("replaying", len(job_ids)) as advance:
            for start in range(0, len(job_ids), 500):
                batch = job_ids[start : start + 500]
                with writer(store.engine).begin() as connection:
                    replayed += jobs.requeue(connection, store.clock(), job_ids=batch)
                advance(len(batch))
    typer.echo(f"queued {replayed} job(s) again")
