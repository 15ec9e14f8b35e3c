"""The console's pages to see why and act in bulk: the overview chart, failures and their detail, an event's
payload, a held request, health per event type and handler, and bulk actions with a confirmation step."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from casehooks.console import listing
from casehooks.console.access import Reader, Scope
from casehooks.console.auth import confirmation_token, same
from casehooks.console.charts import bucket_label, horizontal_bars, series_chart
from casehooks.console.identity import SESSION_COOKIE, Identities
from casehooks.console.operations import Operations, Selection
from casehooks.console.pages import client_of, render
from casehooks.console.reading import require
from casehooks.errors import AccessDenied, NotFound, NotSignedIn
from casehooks.store import stats
from casehooks.store.bulk import DeadSelection, EventSelection, HeldSelection
from casehooks.store.event_list import EventFilter, event_cursor

DEFAULT_SPAN = "24h"
BULK_ACTIONS = {
    "replay": ("Replay events", "event(s)", "/console/events"),
    "reprocess": ("Reprocess held requests", "held request(s)", "/console/quarantine"),
    "retry": ("Retry dead jobs", "dead job(s)", "/console/failed"),
}

FAILED_STATES = {"dead": "dead (out of attempts)", "failed": "retrying"}


def _span(request: Request) -> stats.Span:
    return stats.SPANS.get(request.query_params.get("range", ""), stats.SPANS[DEFAULT_SPAN])


def _day(text: str | None, *, after: bool = False) -> datetime | None:
    """A ``YYYY-MM-DD`` field as the start of that day in UTC (``after``: of the next day); None if blank."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start + timedelta(days=1) if after else start


def _selection(action: str, fields: Any) -> Selection:
    def field(name: str) -> str | None:
        return str(fields.get(name) or "").strip()[:200] or None

    if action == "replay":
        return EventSelection(
            event_type=field("type"),
            job_status=field("status"),
            since=_day(field("since")),
            until=_day(field("until"), after=True),
        )
    if action == "reprocess":
        return HeldSelection(reason=field("reason"))
    if action == "retry":
        return DeadSelection(handler=field("handler"), error=field("error"))
    raise NotFound("bulk action", action[:40])


FILTER_FIELDS = {
    "replay": ("type", "status", "since", "until"),
    "reprocess": ("reason",),
    "retry": ("handler", "error"),
}


def _series(activity: dict[str, list[tuple[datetime, int]]], span: stats.Span) -> dict[str, list[tuple[str, int]]]:
    with_day = span.bucket * span.buckets > timedelta(hours=24)
    return {
        name: [(bucket_label(stamp, with_day=with_day), count) for stamp, count in points]
        for name, points in activity.items()
    }


def detail_router(operations: Operations, identities: Identities) -> APIRouter:
    router = APIRouter(prefix="/console", include_in_schema=False)
    console = operations.console

    def session_of(request: Request) -> str:
        session_id = request.cookies.get(SESSION_COOKIE)
        if not session_id:
            raise NotSignedIn("sign in")
        return session_id

    def reader_of(request: Request) -> Reader:
        return identities.from_session(session_of(request), client_of(request))

    async def checked_form(request: Request) -> tuple[Reader, Any]:
        session_id = session_of(request)
        form = await request.form()
        if not identities.csrf_ok(session_id, str(form.get("csrf", ""))):
            raise AccessDenied("csrf")
        return await run_in_threadpool(identities.from_session, session_id, client_of(request)), form

    @router.get("/")
    def overview(request: Request) -> Response:
        who = reader_of(request)
        span = _span(request)
        shown = console.overview(who)
        activity = operations.activity(who, span)
        chart = series_chart(_series(activity["series"], span), label=f"requests, last {span.name}")
        return render(
            request,
            "overview.html",
            who,
            shown=shown,
            span=span.name,
            spans=list(stats.SPANS),
            activity_chart=Markup(chart),  # noqa: S704  (built from escaped parts)
            refusals_chart=Markup(horizontal_bars(activity["refusals_by_reason"])),  # noqa: S704
        )

    @router.get("/health")
    def health(request: Request) -> Response:
        who = reader_of(request)
        span = _span(request)
        figures = operations.health(who, span)
        failures = _series({"failed runs": figures["failures"]}, span)
        chart = series_chart(failures, label=f"failed handler runs, last {span.name}")
        return render(
            request,
            "health.html",
            who,
            health=figures,
            span=span.name,
            spans=list(stats.SPANS),
            failures_chart=Markup(chart),  # noqa: S704
        )

    @router.get("/failed")
    def failed(request: Request) -> Response:
        who = reader_of(request)
        params = request.query_params
        state = listing.choice(params, "state", list(FAILED_STATES)) or "dead"
        before = listing.cursor(params)
        page = console.events_page(
            who,
            EventFilter(job_status=state, limit=listing.PAGE_SIZE, before_seq=event_cursor(before) if before else None),
        )
        runs_before = listing.whole_number(params, "runs_before")
        return render(
            request,
            "failed.html",
            who,
            depth=console.depth(who),
            state=state,
            states=FAILED_STATES,
            page=page,
            next_link=listing.next_link("/console/failed", {**params, "state": state}, page.next),
            failures=operations.failures(who, limit=listing.PAGE_SIZE, runs_before=runs_before),
        )

    @router.get("/failures/{attempt_id}")
    def failure(request: Request, attempt_id: int) -> Response:
        who = reader_of(request)
        return render(request, "failure.html", who, run=operations.failure(who, attempt_id))

    @router.get("/events/{event_id}/payload")
    def payload(request: Request, event_id: str) -> Response:
        who = reader_of(request)
        reveal = request.query_params.get("reveal") == "1"
        return render(request, "payload.html", who, **operations.payload(who, event_id, reveal=reveal))

    @router.get("/quarantine/{record_id}")
    def held(request: Request, record_id: str) -> Response:
        who = reader_of(request)
        reveal = request.query_params.get("reveal") == "1"
        return render(request, "held.html", who, item=operations.held(who, record_id, reveal=reveal))

    @router.get("/bulk")
    def bulk_forms(request: Request) -> Response:
        who = reader_of(request)
        require(who, Scope.ACTIONS)
        return render(request, "bulk.html", who, action=None, filters={})

    @router.get("/bulk/{action}")
    def bulk_preview(request: Request, action: str) -> Response:
        who = reader_of(request)
        selection = _selection(action, request.query_params)
        matched = operations.matching(who, selection)
        token = confirmation_token(session_of(request), action, selection.describe(), len(matched))
        filters = {name: request.query_params.get(name, "")[:200] for name in FILTER_FIELDS[action]}
        return render(
            request,
            "bulk.html",
            who,
            action=action,
            title=BULK_ACTIONS[action],
            selection=selection.describe(),
            count=len(matched),
            token=token,
            filters=filters,
        )

    @router.post("/bulk/{action}")
    async def bulk_apply(request: Request, action: str) -> Response:
        who, form = await checked_form(request)
        selection = _selection(action, form)
        matched = await run_in_threadpool(operations.matching, who, selection)
        expected = confirmation_token(session_of(request), action, selection.describe(), len(matched))
        filters = {name: str(form.get(name, ""))[:200] for name in FILTER_FIELDS[action]}
        if not same(expected, str(form.get("token", ""))):
            notice = f"The selection changed: {len(matched)} now match. Check and confirm again."
            query = urlencode({**filters, "notice": notice})
            return RedirectResponse(f"/console/bulk/{action}?{query}", status_code=303)
        outcome = await run_in_threadpool(operations.apply, who, action, selection, matched)
        target = BULK_ACTIONS[action][2]
        return RedirectResponse(f"{target}?notice={quote(f'{len(matched)} matched: {outcome}')}", status_code=303)

    return router
