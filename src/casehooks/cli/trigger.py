"""``casehooks trigger EVENT --to URL``: send realistic, signed events to a receiver and report how it did."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from casehooks.sender.fake import EVENT_TYPES, DocumentFormatName
from casehooks.sender.stats import Outcome, TriggerSummary
from casehooks.sender.trigger import (
    EngineName,
    TriggerOptions,
    fast_engine_fits,
    run_coroutine,
    run_trigger,
    run_trigger_processes,
)


def _auth_header(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    name, sep, secret = value.partition(":")
    if not sep or not name.strip():
        raise typer.BadParameter("expected NAME:VALUE", param_hint="--auth-header")
    return name.strip(), secret.strip()


def _engine(value: str) -> EngineName:
    if value == "fast":
        return "fast"
    if value == "httpx":
        return "httpx"
    if value == "auto":
        return "auto"
    raise typer.BadParameter("auto, fast or httpx", param_hint="--engine")


def _event_type(value: str) -> str:
    if value not in EVENT_TYPES:
        raise typer.BadParameter(f"unknown event type; one of: {', '.join(EVENT_TYPES)}")
    return value


def trigger(
    event: Annotated[
        str,
        typer.Argument(help=f"The event type, one of: {', '.join(EVENT_TYPES)}.", callback=_event_type),
    ],
    to: Annotated[str, typer.Option("--to", help="The receiver's webhook URL.")],
    secret: Annotated[
        str | None,
        typer.Option(
            help="Sign with x-cv-signature under this secret (of a list NEW,OLD, the first).",
            envvar="CASEHOOKS_WEBHOOK_SECRET",
        ),
    ] = None,
    auth_header: Annotated[str | None, typer.Option("--auth-header", help="A static header, NAME:VALUE.")] = None,
    count: Annotated[int, typer.Option(min=0, help="How many events to send.")] = 1,
    concurrency: Annotated[int, typer.Option(min=1, help="Requests in flight at once.")] = 1,
    rate: Annotated[float | None, typer.Option(min=0.001, help="Events a second (default: unpaced).")] = None,
    attachment_bytes: Annotated[int, typer.Option(min=0, help="Size of each attached file.")] = 1024,
    document_format: Annotated[str, typer.Option(help="BASE64 or URL.")] = "BASE64",
    seed: Annotated[
        int | None, typer.Option(help="Seed of the fake data (same seed, same events; default: fresh every run).")
    ] = None,
    timeout: Annotated[float, typer.Option(min=0.001, help="Seconds before a request times out.")] = 30.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    document_host: Annotated[str, typer.Option(help="URL format: where the document server listens.")] = "127.0.0.1",
    document_port: Annotated[int, typer.Option(min=0, max=65535, help="URL format: its port (0: any free).")] = 0,
    document_linger: Annotated[
        float, typer.Option(min=0, help="URL format: seconds to keep serving documents after the last send.")
    ] = 30.0,
    processes: Annotated[
        int, typer.Option(min=1, help="Sending processes sharing --count and --concurrency (for high rates).")
    ] = 1,
    engine: Annotated[
        str,
        typer.Option(
            help="auto (the fast engine for plain http://, httpx otherwise), fast, or httpx (https, proxies)."
        ),
    ] = "auto",
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Afterwards, check that the casehooks store the environment points at holds every accepted "
            "event with the exact bytes sent (CASEHOOKS_DATA_DIR / CASEHOOKS_DATABASE_URL).",
        ),
    ] = False,
) -> None:
    """Send realistic fake events, signed as the platform signs them; report status codes and latency."""
    fmt = document_format.upper()
    if fmt not in ("BASE64", "URL"):
        raise typer.BadParameter("BASE64 or URL", param_hint="--document-format")
    document: DocumentFormatName = "URL" if fmt == "URL" else "BASE64"
    chosen = _engine(engine)
    if chosen == "fast" and not fast_engine_fits(to):
        raise typer.BadParameter("plain http:// URLs only, without a proxy or credentials", param_hint="--engine")
    with contextlib.ExitStack() as stack:
        documents = None
        if document == "URL":
            from casehooks.sender.docserver import DocumentServer

            documents = stack.enter_context(DocumentServer(document_host, document_port))
        summary = _run(
            TriggerOptions(
                url=to,
                event_type=event,
                count=count,
                concurrency=concurrency,
                rate=rate,
                secret=secret,
                auth_header=_auth_header(auth_header),
                attachment_bytes=attachment_bytes,
                document_format=document,
                document_url=documents.link if documents else None,
                on_document=documents.add if documents else None,
                seed=seed,
                timeout=timeout,
                keep_accepted=verify,
                engine=chosen,
            ),
            quiet=as_json or not sys.stdout.isatty(),
            processes=processes,
        )
        if documents is not None and document_linger > 0:
            time.sleep(document_linger)  # the receiver fetches documents after it answered
    checked = _verify(summary.accepted) if verify else None
    if as_json:
        data = summary.to_dict()
        if checked is not None:
            data["verify"] = checked
        typer.echo(json.dumps(data, indent=2))
    else:
        _print_summary(Console(), summary, checked)
    if summary.succeeded < summary.sent or (checked is not None and (checked["missing"] or checked["differing"])):
        raise typer.Exit(1)


def _run(options: TriggerOptions, *, quiet: bool, processes: int) -> TriggerSummary:
    if processes > 1:
        return run_trigger_processes(options, processes)
    return run_coroutine(run_trigger(options)) if quiet else _with_progress(options)


def _verify(accepted: dict[str, str]) -> dict[str, int]:
    """How many accepted events the store holds with the same body hash, lacks, or holds with other bytes."""
    from sqlalchemy import select

    from casehooks.cli.common import opened_store
    from casehooks.store.tables import EventRow

    stored: dict[str, str] = {}
    ids = sorted(accepted)
    with opened_store() as store, store.engine.connect() as connection:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = connection.execute(select(EventRow.id, EventRow.body_sha256).where(EventRow.id.in_(chunk)))
            stored.update({row.id: row.body_sha256 for row in rows})
    matching = sum(1 for key, digest in accepted.items() if stored.get(key) == digest)
    missing = sum(1 for key in accepted if key not in stored)
    return {
        "checked": len(accepted),
        "stored": matching,
        "missing": missing,
        "differing": len(accepted) - matching - missing,
    }


def _with_progress(options: TriggerOptions) -> TriggerSummary:
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True
    )
    with progress:
        task = progress.add_task(options.event_type, total=options.count)

        def advance(_: Outcome) -> None:
            progress.advance(task)

        return run_coroutine(run_trigger(options, on_outcome=advance))


def _print_summary(console: Console, summary: TriggerSummary, checked: dict[str, int] | None) -> None:
    data = summary.to_dict()
    table = Table(title=f"{summary.sent} sent, {summary.succeeded} accepted", show_header=False)
    table.add_row("status codes", ", ".join(f"{code}: {n}" for code, n in data["statuses"].items()) or "-")
    table.add_row("errors", ", ".join(f"{kind}: {n}" for kind, n in data["errors"].items()) or "-")
    latency = data["latency_ms"]
    table.add_row("latency p50/p95/p99", f"{latency['p50']} / {latency['p95']} / {latency['p99']} ms")
    table.add_row("throughput", f"{data['throughput_per_second']} events/s over {data['elapsed_seconds']} s")
    if checked is not None:
        table.add_row(
            "verified",
            f"{checked['stored']} of {checked['checked']} stored as sent; "
            f"{checked['missing']} missing, {checked['differing']} differing",
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command()(trigger)
