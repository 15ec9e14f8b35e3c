"""The web console: server-rendered pages (Jinja2) over the same operations as the API, for a signed-in user.

Sessions live in an ``HttpOnly``, ``SameSite=Strict`` cookie (``Secure`` over https); every form that changes
something carries the session's CSRF token, and the sign-in form a nonce of its own.
"""

from __future__ import annotations

import ipaddress
import mimetypes
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from casehooks.console import listing
from casehooks.console.access import Reader, Scope
from casehooks.console.auth import csrf_token, new_nonce, safe_next, same
from casehooks.console.finding import find
from casehooks.console.identity import SESSION_COOKIE, Identities, Outcome
from casehooks.console.reading import Console
from casehooks.errors import AccessDenied, InvalidCursor, NotSignedIn

HERE = Path(__file__).parent
LOGIN_COOKIE = "casehooks_login"
PREVIEWABLE = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"})

templates = Jinja2Templates(directory=HERE / "templates")


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


templates.env.filters["when"] = _when


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def client_of(request: Request) -> str:
    return request.client.host if request.client else ""


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


def _session_id(request: Request) -> str:
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        raise NotSignedIn("sign in")
    return session_id


def render(request: Request, name: str, reader: Reader | None, status_code: int = 200, **context: Any) -> Response:
    session_id = request.cookies.get(SESSION_COOKIE)
    context.update(
        reader=reader,
        csrf=csrf_token(session_id) if session_id and reader else "",
        may={scope.value: reader.may(scope) for scope in Scope} if reader else {},
        path=request.url.path,
        notice=request.query_params.get("notice", "")[:200],
    )
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def _file_type(meta: dict[str, Any]) -> str:
    guessed, _ = mimetypes.guess_type(str(meta.get("fileName") or ""))
    return guessed or "application/octet-stream"


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:120] or "file"


def pages_router(console: Console, identities: Identities) -> APIRouter:
    router = APIRouter(prefix="/console", include_in_schema=False)

    def reader_of(request: Request) -> Reader:
        return identities.from_session(_session_id(request), client_of(request))

    async def checked_form(request: Request) -> tuple[Reader, Any]:
        """The signed-in reader and the posted form, once its CSRF token matches the session."""
        session_id = _session_id(request)
        form = await request.form()
        if not identities.csrf_ok(session_id, str(form.get("csrf", ""))):
            raise AccessDenied("csrf")
        return await run_in_threadpool(identities.from_session, session_id, client_of(request)), form

    def back(url: str, notice: str) -> RedirectResponse:
        return RedirectResponse(f"{url}?notice={quote(notice)}", status_code=303)

    @router.get("/login")
    def login_page(request: Request) -> Response:
        nonce = new_nonce()
        error = request.query_params.get("error")
        target = safe_next(request.query_params.get("next"))
        response = render(request, "login.html", None, nonce=nonce, error=error, next=target or "")
        response.set_cookie(
            LOGIN_COOKIE, nonce, max_age=600, httponly=True, samesite="strict", secure=_secure(request), path="/console"
        )
        return response

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        target = safe_next(str(form.get("next", "")))

        def again(error: str) -> RedirectResponse:
            kept = f"&next={quote(target, safe='')}" if target else ""
            return RedirectResponse(f"/console/login?error={error}{kept}", status_code=303)

        nonce = request.cookies.get(LOGIN_COOKIE, "")
        if not nonce or not same(nonce, str(form.get("nonce", ""))):
            return again("expired")
        client = client_of(request)
        if not _secure(request) and not _loopback(client):
            return again("https")
        signed = await run_in_threadpool(
            identities.sign_in, str(form.get("username", ""))[:80], str(form.get("password", ""))[:1000], client
        )
        if signed.outcome is not Outcome.SIGNED_IN:
            return again(signed.outcome.value)
        session_id = signed.session_id
        response = RedirectResponse(target or "/console/", status_code=303)
        response.delete_cookie(LOGIN_COOKIE, path="/console")
        response.set_cookie(
            SESSION_COOKIE,
            session_id,
            max_age=int(identities.policy.session_ttl.total_seconds()),
            httponly=True,
            samesite="strict",
            secure=_secure(request),
            path="/",
        )
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        await checked_form(request)
        await run_in_threadpool(identities.sign_out, _session_id(request))
        response = RedirectResponse("/console/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @router.get("/events")
    def events(request: Request) -> Response:
        who = reader_of(request)
        params = request.query_params
        page = console.events_page(who, listing.event_filter(params))
        return render(
            request,
            "events.html",
            who,
            events=page.items,
            page=page,
            next_link=listing.next_link("/console/events", params, page.next),
            filters=dict(params),
            event_types=listing.EVENT_TYPES,
            job_states=listing.JOB_STATES,
        )

    @router.get("/events/{event_id}")
    def event(request: Request, event_id: str) -> Response:
        who = reader_of(request)
        return render(request, "event.html", who, event=console.event(who, event_id))

    @router.post("/events/{event_id}/replay")
    async def replay(request: Request, event_id: str) -> Response:
        who, form = await checked_form(request)
        queued = await run_in_threadpool(console.replay, who, event_id)
        target = str(form.get("next") or "")
        return back(target if target.startswith("/console/") else f"/console/events/{event_id}", f"queued {queued}")

    @router.get("/cases")
    def cases(request: Request) -> Response:
        who = reader_of(request)
        params = request.query_params
        query = params.get("q", "").strip()[:200]
        found = find(console, who, query)
        if found.open_path:
            return RedirectResponse(quote(found.open_path), status_code=303)
        where = listing.case_filter(params, short_id=found.short_id, case_ids=found.case_ids)
        page = console.cases_page(who, where)
        if query and page.total == 1 and not params.get("before") and found.case_ids is None:
            return RedirectResponse(f"/console/cases/{quote(page.items[0]['id'])}", status_code=303)
        return render(
            request,
            "cases.html",
            who,
            cases=page.items,
            page=page,
            notices=found.notices,
            next_link=listing.next_link("/console/cases", params, page.next),
            query=query,
            filters=dict(params),
            case_states=listing.CASE_STATES,
        )

    @router.get("/cases/{case}")
    def case(request: Request, case: str) -> Response:
        who = reader_of(request)
        before = request.query_params.get("before") or None
        after = request.query_params.get("after") or None
        try:
            shown = console.case(who, case, limit=50, before=before, after=after)
        except InvalidCursor:
            return error_page(request, 400, "That page of the timeline does not exist.")
        # Files are listed, not loaded: a preview or download is one request, audited when it is opened.
        for item in shown["timeline"]:
            for file in item.get("attachments") or []:
                if not item.get("masked") and not file.get("hidden"):
                    file["file_type"] = _file_type(file)
                    file["previewable"] = file["file_type"] in PREVIEWABLE and file.get("content_status") == "stored"
        return render(request, "case.html", who, case=shown)

    @router.get("/attachments/{attachment_id}/file")
    def attachment_file(request: Request, attachment_id: str) -> Response:
        who = reader_of(request)
        download = console.download(who, attachment_id)
        file_type = _file_type(download.meta)
        inline = request.query_params.get("inline") == "1" and file_type in PREVIEWABLE
        name = _safe_name(str(download.meta.get("fileName") or attachment_id))
        return StreamingResponse(
            download.chunks,
            media_type=file_type if inline else "application/octet-stream",
            headers={
                "content-disposition": f'{"inline" if inline else "attachment"}; filename="{name}"',
                # Served files run nothing. Chromium's PDF viewer does not load in a sandboxed document, so an
                # inline PDF gets the strict policy without the sandbox.
                "content-security-policy": "default-src 'none'; frame-ancestors 'self'"
                + ("" if inline and file_type == "application/pdf" else "; sandbox"),
                "x-frame-options": "SAMEORIGIN",
                "x-content-type-options": "nosniff",
                "cache-control": "no-store",
            },
        )

    @router.get("/quarantine")
    def quarantine(request: Request) -> Response:
        who = reader_of(request)
        params = request.query_params
        status = listing.choice(params, "status", listing.QUARANTINE_STATES) or "held"
        page = console.quarantine_page(
            who, None if status == "all" else status, listing.PAGE_SIZE, listing.cursor(params)
        )
        next_link = listing.next_link("/console/quarantine", {**params, "status": status}, page.next)
        return render(request, "quarantine.html", who, held=page.items, page=page, status=status, next_link=next_link)

    @router.post("/quarantine/{record_id}/reprocess")
    async def reprocess(request: Request, record_id: str) -> Response:
        who, _ = await checked_form(request)
        outcome = await run_in_threadpool(console.reprocess, who, record_id)
        return back("/console/quarantine", f"{record_id}: {outcome.outcome} {outcome.reason or ''}".strip())

    @router.get("/audit")
    def audit(request: Request) -> Response:
        who = reader_of(request)
        params = request.query_params
        username = (params.get("user") or "")[:80] or None
        page = console.audit_page(who, username, listing.PAGE_SIZE, listing.cursor(params))
        next_link = listing.next_link("/console/audit", params, page.next)
        return render(request, "audit.html", who, entries=page.items, page=page, next_link=next_link)

    return router


ERROR_PAGES = {403: "forbidden.html", 404: "not_found.html"}


def error_page(request: Request, status_code: int, message: str, reader: Reader | None = None) -> Response:
    """The 403 or 404 page, with the navigation when the visitor is signed in."""
    name = ERROR_PAGES.get(status_code, "error.html")
    return render(request, name, reader, status_code=status_code, message=message)
