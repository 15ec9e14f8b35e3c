"""``casehooks cases list|show|timeline`` and ``casehooks attachments get|sweep``."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from casehooks.cli.audit import audit_read
from casehooks.cli.common import AsFlag, opened_store
from casehooks.cli.output import emit_page, print_json
from casehooks.errors import BadFilter, InvalidCursor, NotFound
from casehooks.events.enums import CaseStatus
from casehooks.store.file_sweep import DEFAULT_GRACE, sweep_files
from casehooks.store.reads import CaseFilter, attachment, page_cases

cases_app = typer.Typer(help="Cases as the latest snapshots tell them, with their timelines.", no_args_is_help=True)
attachments_app = typer.Typer(help="Attachment files, decrypted on the way out.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
RevealFlag = Annotated[bool, typer.Option("--reveal/--no-reveal", help="Show PHI (names, comment text, file names).")]


@cases_app.command("list")
def list_command(
    status: Annotated[CaseStatus | None, typer.Option(help="Only cases in this status.")] = None,
    organization: Annotated[str | None, typer.Option(help="Only cases of this organization id.")] = None,
    since: Annotated[datetime | None, typer.Option(help="Updated at or after (ISO 8601).")] = None,
    until: Annotated[datetime | None, typer.Option(help="Updated before (ISO 8601).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    before: Annotated[str | None, typer.Option(help="Page cursor (`next` of the last page).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List cases, most recently updated first, with the total (no PHI)."""
    where = CaseFilter(
        status=status.value if status else None,
        organization_id=organization,
        since=since,
        until=until,
        limit=limit,
        before=before,
    )
    with opened_store() as store, store.engine.connect() as connection:
        try:
            page = page_cases(connection, where)
        except BadFilter as exc:
            raise typer.BadParameter(str(exc)) from None
    columns = ["id", "short_id", "status", "type", "organization_id", "updated_at"]
    emit_page(page, columns, as_json=as_json, noun="case(s)", again="casehooks cases list")


LimitFlag = Annotated[int, typer.Option(min=1, max=1000, help="Timeline entries per page.")]
BeforeFlag = Annotated[str | None, typer.Option(help="Page cursor: the entries older than this one.")]
AfterFlag = Annotated[str | None, typer.Option(help="Page cursor: the entries newer than this one.")]
RestrictedFlag = Annotated[
    bool, typer.Option("--restricted/--no-restricted", help="Include restricted (internal-only) items.")
]


@cases_app.command("show")
def show_command(
    case: Annotated[str, typer.Argument(help="A case id or short id.")],
    reveal: RevealFlag = False,
    restricted: RestrictedFlag = False,
    limit: LimitFlag = 50,
    before: BeforeFlag = None,
    after: AfterFlag = None,
    as_json: JsonFlag = False,
    as_user: AsFlag = None,
) -> None:
    """A case with the latest page of its timeline: one card per activity with its comment, files and objects."""
    _show(case, reveal, restricted, limit, before, after, as_json, as_user)


@cases_app.command("timeline")
def timeline_command(
    case: Annotated[str, typer.Argument(help="A case id or short id.")],
    reveal: RevealFlag = False,
    restricted: RestrictedFlag = False,
    limit: LimitFlag = 50,
    before: BeforeFlag = None,
    after: AfterFlag = None,
    as_json: JsonFlag = False,
    as_user: AsFlag = None,
) -> None:
    """One page of a case's timeline, oldest first; the last line gives the cursor of the older page."""
    _show(case, reveal, restricted, limit, before, after, as_json, as_user)


def _show(
    case: str,
    reveal: bool,
    restricted: bool,
    limit: int,
    before: str | None,
    after: str | None,
    as_json: bool,
    as_user: str | None,
) -> None:
    from casehooks.store.timeline import case_timeline

    with opened_store() as store, store.engine.connect() as connection:
        try:
            shown = case_timeline(
                connection,
                store.vault,
                case,
                reveal=reveal,
                restricted=restricted,
                limit=limit,
                before=before,
                after=after,
            )
        except (NotFound, InvalidCursor) as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
        if reveal:
            audit_read(store, as_user, "read_case", "case", shown["id"])
    if as_json:
        print_json(shown)
        return
    console = Console()
    console.print(f"[bold]{shown.get('short_id') or shown['id']}[/] {shown.get('title') or ''} — {shown.get('status')}")
    table = Table("at", "kind", "what", "who", "carries", "event", "restricted")
    for item in shown["timeline"]:
        comment = item.get("comment") or {}
        who = item.get("actor") or comment.get("author") or {}
        name = " ".join(filter(None, [who.get("firstName"), who.get("lastName")])) or who.get("id") or ""
        what = item.get("type") or comment.get("text") or item.get("id")
        table.add_row(
            str(item["at"] or ""),
            item["kind"],
            str(what),
            name,
            _carried(item),
            str(item.get("event_id") or ""),
            "yes" if item.get("is_restricted") else "",
        )
    console.print(table)
    page = shown["page"]
    console.print(f"{len(shown['timeline'])} of {page['total']} entries")
    if page["older"]:
        typer.echo(f"older: casehooks cases timeline {shown['id']} --before {page['older']}")
    if page["newer"]:
        typer.echo(f"newer: casehooks cases timeline {shown['id']} --after {page['newer']}")


def _carried(item: dict[str, Any]) -> str:
    """What a card carries, in a few words: its comment, its files and its objects with their states."""
    parts = []
    if item.get("comment"):
        parts.append("comment")
    for file in item.get("attachments") or []:
        parts.append(f"file {file.get('fileName') or file['id']} ({file.get('content_status')})")
    for carried in item.get("objects") or []:
        state = carried.get("status") or carried.get("visit_type") or ""
        parts.append(f"{carried['kind']} {state}".strip())
    return ", ".join(parts)


@attachments_app.command("get")
def get_command(
    attachment_id: str,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the decrypted file.")],
    restricted: Annotated[bool, typer.Option("--restricted", help="Allow a restricted (internal-only) file.")] = False,
    as_user: AsFlag = None,
) -> None:
    """Write an attachment's file, decrypted, to a path (created with owner-only permissions)."""
    with opened_store() as store:
        with store.engine.connect() as connection:
            try:
                meta = attachment(connection, store.vault, attachment_id)
            except NotFound as exc:
                typer.echo(str(exc), err=True)
                raise typer.Exit(1) from None
        if meta["is_restricted"] and not restricted:
            typer.echo(f"attachment {attachment_id} is restricted: add --restricted to export it", err=True)
            raise typer.Exit(1)
        if meta["content_status"] != "stored" or not meta["blob_sha256"]:
            typer.echo(f"attachment {attachment_id} has no stored file ({meta['content_status']})", err=True)
            raise typer.Exit(1)
        audit_read(store, as_user, "download_attachment", "attachment", attachment_id)
        written = 0
        output.touch(mode=0o600, exist_ok=True)
        with output.open("wb") as file:
            for chunk in store.files.open(meta["blob_sha256"]):
                file.write(chunk)
                written += len(chunk)
    typer.echo(f"wrote {written} bytes to {output}")


@attachments_app.command("sweep")
def sweep_command(
    grace_seconds: Annotated[
        float, typer.Option("--grace-seconds", min=300, help="Only files last written longer ago than this.")
    ] = DEFAULT_GRACE.total_seconds(),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be removed; remove nothing.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Remove files in the blob store that no stored file names (left by crashes and lost commits)."""
    with opened_store() as store:
        report = sweep_files(store.engine, store.files.blobs, grace=timedelta(seconds=grace_seconds), dry_run=dry_run)
    if as_json:
        print_json(report.as_dict())
        return
    verb = "would remove" if dry_run else "removed"
    typer.echo(
        f"listed {report.listed} file(s); {verb} {report.unreferenced} no stored file names "
        f"({report.unreferenced_bytes} bytes) and {report.partials} partial upload(s); "
        f"{report.young} too recent to judge"
    )
