"""The console as one ASGI app: the JSON API under ``/api`` and the pages under ``/console``."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from casehooks.console.access import Reader
from casehooks.console.api import api_router
from casehooks.console.auth import safe_next
from casehooks.console.detail_pages import detail_router
from casehooks.console.headers import SecurityHeaders
from casehooks.console.identity import SESSION_COOKIE, Identities
from casehooks.console.operations import Operations
from casehooks.console.pages import HERE, client_of, error_page, pages_router
from casehooks.console.policy import AccessPolicy
from casehooks.console.reading import Console
from casehooks.errors import AccessDenied, BadFilter, CasehooksError, CountChanged, NotFound, NotSignedIn
from casehooks.signing import Authenticator
from casehooks.store import Store

LOGIN_PATH = "/console/login"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api")


def _sign_in_then_back(request: Request) -> str:
    """The sign-in page, told to come back to the page asked for (a GET of a page other than the overview)."""
    asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = safe_next(asked) if request.method == "GET" else None
    return f"{LOGIN_PATH}?next={quote(target, safe='')}" if target and target != "/console/" else LOGIN_PATH


def build_console(store: Store, authenticator: Authenticator, policy: AccessPolicy | None = None) -> FastAPI:
    """The console over ``store``; mounted by the receiver beside (never in front of) the webhook route."""
    policy = policy or AccessPolicy()
    console = Console(store, authenticator)
    identities = Identities(store, policy)
    app = FastAPI(
        title="casehooks console API",
        version="1",
        description="Read stored events, cases, files, the queue and the quarantine; replay and reprocess. "
        "Every read of PHI is audited.",
        openapi_url="/api/openapi.json",
        # No interactive page: Swagger UI would load scripts from a CDN into the origin that serves PHI. The
        # schema is served; open it in any OpenAPI viewer outside this origin.
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(SecurityHeaders)
    operations = Operations(console, authenticator)
    app.include_router(api_router(operations, identities))
    app.include_router(pages_router(console, identities))
    app.include_router(detail_router(operations, identities))
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/", include_in_schema=False)
    @app.get("/console", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/console/", status_code=307)

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=401, headers={"www-authenticate": "Bearer"})
        return RedirectResponse(_sign_in_then_back(request), status_code=303)

    def visitor(request: Request) -> Reader | None:
        """Who is signed in, for the navigation of an error page; None for a stranger."""
        session_id = request.cookies.get(SESSION_COOKIE)
        if not session_id:
            return None
        try:
            return identities.from_session(session_id, client_of(request))
        except CasehooksError:
            return None

    @app.exception_handler(AccessDenied)
    async def access_denied(request: Request, exc: AccessDenied) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=403)
        return error_page(request, 403, "Your role does not allow this.", visitor(request))

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=404)
        return error_page(request, 404, str(exc), visitor(request))

    @app.exception_handler(HTTPException)
    async def no_such_page(request: Request, exc: HTTPException) -> Response:
        if exc.status_code != 404 or _is_api(request) or not request.url.path.startswith("/console"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return error_page(request, 404, "There is no such page.", visitor(request))

    @app.exception_handler(CountChanged)
    async def count_changed(request: Request, exc: CountChanged) -> Response:
        return JSONResponse({"detail": str(exc), "found": exc.found}, status_code=409)

    @app.exception_handler(BadFilter)
    async def bad_filter(request: Request, exc: BadFilter) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=422)
        return error_page(request, 422, str(exc))

    return app
