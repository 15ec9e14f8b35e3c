"""The console as one ASGI app: the JSON API under ``/api`` and the pages under ``/console``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from casehooks.console.api import api_router
from casehooks.console.headers import SecurityHeaders
from casehooks.console.identity import Identities
from casehooks.console.pages import HERE, error_page, pages_router
from casehooks.console.policy import AccessPolicy
from casehooks.console.reading import Console
from casehooks.errors import AccessDenied, BadFilter, NotFound, NotSignedIn
from casehooks.signing import Authenticator
from casehooks.store import Store

LOGIN_PATH = "/console/login"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api")


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
    app.include_router(api_router(console, identities))
    app.include_router(pages_router(console, identities))
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/", include_in_schema=False)
    @app.get("/console", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/console/", status_code=307)

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=401, headers={"www-authenticate": "Bearer"})
        return RedirectResponse(LOGIN_PATH, status_code=303)

    @app.exception_handler(AccessDenied)
    async def access_denied(request: Request, exc: AccessDenied) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=403)
        return error_page(request, 403, "Your role does not allow this.")

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=404)
        return error_page(request, 404, str(exc))

    @app.exception_handler(BadFilter)
    async def bad_filter(request: Request, exc: BadFilter) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=422)
        return error_page(request, 422, str(exc))

    return app
