"""The read API (JSON, documented by OpenAPI at ``/api/openapi.json``): events, cases, files, queue, quarantine.

No ``from __future__ import annotations`` here: FastAPI reads the (local) dependency annotations at runtime.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from casehooks.console import models
from casehooks.console.access import Reader
from casehooks.console.finding import find
from casehooks.console.identity import SESSION_COOKIE, Identities
from casehooks.console.operations import Operations
from casehooks.errors import InvalidCursor, NotSignedIn
from casehooks.events.enums import ActivityType, CaseStatus
from casehooks.store.event_list import EventFilter, event_cursor
from casehooks.store.reads import CaseFilter

CSRF_HEADER = "x-csrf-token"
_bearer = HTTPBearer(auto_error=False, description="An API token from `casehooks tokens create`.")

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": models.Problem, "description": "No valid token or session"},
    403: {"model": models.Problem, "description": "The role or token scopes do not allow this"},
    404: {"model": models.Problem, "description": "No such object"},
    422: {"description": "A filter or cursor that cannot be read"},
}
MAX_SEQ = 2**62  # within a 64-bit database integer
Limit = Annotated[int, Query(ge=1, le=1000)]
Text = Annotated[str | None, Query(max_length=200)]
Cursor = Annotated[str | None, Query(max_length=400, description="A cursor from the previous page's answer.")]


def api_router(operations: Operations, identities: Identities) -> APIRouter:
    console = operations.console

    def reader(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Reader:
        client = request.client.host if request.client else None
        if credentials is not None:
            return identities.from_token(credentials.credentials, client)
        session_id = request.cookies.get(SESSION_COOKIE)
        if not session_id:
            raise NotSignedIn("sign in, or send a bearer token")
        found = identities.from_session(session_id, client)
        # A browser's own calls that change things must prove they come from our pages.
        if request.method != "GET" and not identities.csrf_ok(session_id, request.headers.get(CSRF_HEADER)):
            raise NotSignedIn("missing or wrong CSRF token")
        return found

    Who = Annotated[Reader, Depends(reader)]  # noqa: N806  (a type alias)
    router = APIRouter(prefix="/api", responses=ERRORS)

    @router.get("/me", response_model=models.Me, tags=["access"])
    def me(who: Who) -> dict[str, Any]:
        """Who the credentials belong to and what they allow."""
        return {"username": who.username, "role": who.role.value, "scopes": sorted(who.scopes)}

    @router.get("/overview", response_model=models.Overview, tags=["overview"])
    def overview(who: Who) -> dict[str, Any]:
        """Counts, queue depth, events per minute over the last hour and refusals by reason."""
        shown = console.overview(who)
        shown["events_per_minute"] = [
            {"minute": minute, "count": count} for minute, count in shown["events_per_minute"]
        ]
        return shown

    @router.get("/events", response_model=models.EventPage, tags=["events"])
    def events(
        who: Who,
        type: ActivityType | None = None,
        status: models.JobStatus | None = None,
        case: Text = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after: Annotated[
            str | None, Query(max_length=200, description="A cursor or seq: only newer events (live updates).")
        ] = None,
        before: Cursor = None,
        limit: Limit = 50,
    ) -> dict[str, Any]:
        """Stored events, newest first (no payload data), with the next page's cursor and the total."""
        where = EventFilter(
            event_type=type.value if type else None,
            case_id=case,
            job_status=status.value if status else None,
            since=since,
            until=until,
            limit=limit,
            before_seq=event_cursor(before) if before else None,
            after_seq=event_cursor(after) if after else None,
        )
        return console.events_page(who, where).as_dict()

    @router.get("/events/{event_id}", response_model=models.EventDetail, tags=["events"])
    def event(who: Who, event_id: str) -> dict[str, Any]:
        """An event with its deviations, its job and every handler attempt."""
        return console.event(who, event_id)

    @router.get("/events/{event_id}/payload", response_model=models.EventPayload, tags=["events"])
    def payload(who: Who, event_id: str, reveal: bool = False) -> dict[str, Any]:
        """The event's stored body and request headers: redacted, or whole with ``reveal=true`` for a reader with
        PHI access (audited). Credentials in the headers were never stored."""
        shown = operations.payload(who, event_id, reveal=reveal)
        body = shown["payload"]
        return {"event": shown["event"], "body": body.text, "revealed": body.revealed, "note": body.note,
                "headers": shown["headers"]}  # fmt: skip

    @router.post("/events/{event_id}/replay", response_model=models.Queued, tags=["actions"])
    def replay(who: Who, event_id: str) -> dict[str, int]:
        """Run the event's handlers again (needs the actions scope)."""
        return {"queued": console.replay(who, event_id)}

    @router.get("/cases", response_model=models.CasePage, tags=["cases"])
    def cases(
        who: Who,
        short_id: Annotated[str | None, Query(max_length=64, description="The start of a short id.")] = None,
        q: Annotated[
            str | None,
            Query(
                max_length=200,
                description="One search: a short id (or its start), case id, event id (its case), or with the "
                "phi scope a patient's name, email or phone (blind index; audited).",
            ),
        ] = None,
        status: CaseStatus | None = None,
        organization: Text = None,
        since: Annotated[datetime | None, Query(description="Updated at or after.")] = None,
        until: Annotated[datetime | None, Query(description="Updated before.")] = None,
        before: Cursor = None,
        limit: Limit = 50,
    ) -> dict[str, Any]:
        """Cases, most recently updated first (no PHI), with the next page's cursor and the total."""
        found = find(console, who, q or "")
        case_ids = found.case_ids
        if found.open_path is not None:
            case_ids = (found.case_id,) if found.case_id else ()
        where = CaseFilter(
            status=status.value if status else None,
            organization_id=organization,
            since=since,
            until=until,
            limit=limit,
            before=before,
            short_id=found.short_id or short_id,
            case_ids=case_ids,
        )
        return {**console.cases_page(who, where).as_dict(), "notices": found.notices}

    @router.get(
        "/cases/{case}",
        response_model=models.CaseDetail,
        tags=["cases"],
        responses={400: {"model": models.Problem, "description": "A cursor this timeline did not hand out"}},
    )
    def case(
        who: Who,
        case: str,
        limit: Annotated[int, Query(ge=1, le=500, description="Timeline entries per page.")] = 50,
        before: Cursor = None,
        after: Cursor = None,
    ) -> dict[str, Any]:
        """A case (by id or short id) with one page of its timeline, oldest first: the latest entries, or those
        ``before``/``after`` a cursor of ``page``. One card per activity, with the comment, files and objects it
        carried and the id of its event. PHI and restricted items masked unless allowed."""
        try:
            return console.case(who, case, limit=limit, before=before, after=after)
        except InvalidCursor as exc:
            raise HTTPException(400, "not a cursor of this timeline") from exc

    @router.get("/attachments/{attachment_id}", response_model=models.AttachmentMeta, tags=["cases"])
    def attachment(who: Who, attachment_id: str) -> dict[str, Any]:
        """An attachment's metadata; its file name only with the phi scope."""
        return console.attachment(who, attachment_id)

    @router.get(
        "/attachments/{attachment_id}/content",
        response_class=StreamingResponse,
        responses={200: {"content": {"application/octet-stream": {}}, "description": "The decrypted file"}},
        tags=["cases"],
    )
    def content(who: Who, attachment_id: str) -> StreamingResponse:
        """The attachment's file, decrypted and streamed (needs the phi scope; audited)."""
        download = console.download(who, attachment_id)
        return StreamingResponse(
            download.chunks,
            media_type="application/octet-stream",
            headers={
                "content-disposition": f'attachment; filename="{attachment_id}"',
                "cache-control": "no-store",
                "x-content-type-options": "nosniff",
            },
        )

    @router.get("/quarantine", response_model=models.QuarantinePage, tags=["quarantine"])
    def quarantine(
        who: Who,
        status: Annotated[str, Query(pattern="^(held|reprocessed|all)$")] = "held",
        before: Cursor = None,
        limit: Limit = 100,
    ) -> dict[str, Any]:
        """Refused requests with their reasons (credentials masked, bodies never shown), newest first."""
        return console.quarantine_page(who, None if status == "all" else status, limit, before).as_dict()

    @router.post("/quarantine/{record_id}/reprocess", response_model=models.ReprocessOutcome, tags=["actions"])
    def reprocess(who: Who, record_id: str) -> dict[str, Any]:
        """Run a held request through the checks again with today's secrets."""
        outcome = console.reprocess(who, record_id)
        return {
            "record_id": outcome.record_id,
            "outcome": outcome.outcome,
            "event_id": outcome.event_id,
            "reason": outcome.reason,
        }

    @router.get("/queue", response_model=models.QueueState, tags=["queue"])
    def queue(who: Who) -> dict[str, Any]:
        """Jobs by state, and the events whose handlers failed."""
        return console.queue(who)

    @router.post(
        "/queue/retry-dead",
        response_model=models.Queued,
        tags=["actions"],
        responses={409: {"description": "The number of dead jobs is not the one expected: nothing was queued."}},
    )
    def retry_dead(
        who: Who,
        expected: Annotated[
            int,
            Query(ge=0, description="How many dead jobs the caller saw (`depth.dead` of GET /api/queue)."),
        ],
    ) -> dict[str, int]:
        """Queue every dead-lettered job again, if there are as many as ``expected`` (409 otherwise)."""
        return {"queued": console.retry_dead(who, expected)}

    @router.get("/audit", response_model=models.AuditPage, tags=["access"])
    def audit(who: Who, username: Text = None, before: Cursor = None, limit: Limit = 200) -> dict[str, Any]:
        """Who read PHI or acted, and when (admins only), newest first."""
        return console.audit_page(who, username, limit, before).as_dict()

    return router
