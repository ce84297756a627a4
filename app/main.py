"""The application factory: routers, middleware, static files, error handlers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import errors, openapi
from app.accounts import api as accounts_api
from app.accounts import pages as accounts_pages
from app.accounts import service as accounts_service
from app.accounts.deps import SESSION_COOKIE
from app.bounds import bound_int_params
from app.certificates import api as certificates_api
from app.certificates import credentials_api
from app.certificates import pages as certificates_pages
from app.certificates.addresses import RequestOriginMiddleware
from app.courses import api as courses_api
from app.courses import authoring_api, authoring_pages
from app.courses import pages as courses_pages
from app.db import get_engine, open_session
from app.exams import api as exams_api
from app.exams import bank_api, bank_pages
from app.exams import pages as exams_pages
from app.exams.sweeper import Sweeper
from app.experts import api as experts_api
from app.experts import pages as experts_pages
from app.i18n import gettext as _
from app.learning import api as learning_api
from app.learning import class_pages
from app.learning import pages as learning_pages
from app.middleware import PitheadMiddleware
from app.organisations import api as organisations_api
from app.organisations import pages as organisations_pages
from app.oversight import api as oversight_api
from app.oversight import assessment_api, assessment_pages, transcript_api, transcript_pages
from app.oversight import pages as oversight_pages
from app.practicals import api as practicals_api
from app.practicals import examiner_pages
from app.practicals import pages as practicals_pages
from app.web import redirect, render

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
log = logging.getLogger("pithead")

PROBLEM = "application/problem+json"


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path.startswith("/.well-known/") or path == "/healthz"


def _problem(status: int, title: str, detail: str, code: str, *,
             headers: dict[str, str] | None = None, **extra: object) -> JSONResponse:
    body = {"type": "about:blank", "status": status, "title": title, "detail": detail,
            "code": code, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _signed_in_user(request: Request) -> None:
    """Errors raised before any route ran (unknown page, wrong method) still show the layout
    of the signed-in user."""
    if hasattr(request.state, "user") or not request.cookies.get(SESSION_COOKIE):
        return
    try:
        with open_session(write=False) as db:
            user = accounts_service.session_user(db=db, token=request.cookies[SESSION_COOKIE])
    except Exception:  # noqa: BLE001 - an error page must render even if the database is down
        log.exception("error page: could not look up the session")
        return
    request.state.user = user
    if user is not None:
        request.state.session_token = request.cookies[SESSION_COOKIE]


def _error_page(request: Request, status: int, title: str, detail: str,
                headers: dict[str, str] | None = None) -> Response:
    _signed_in_user(request)
    return render(request, "errors.html", {"status": status, "title": title, "detail": detail},
                  status_code=status, headers=headers)


async def app_error_handler(request: Request, exc: Exception) -> Response:
    """AppError as problem+json (API) or a friendly page, with a redirect to login for 401."""
    assert isinstance(exc, errors.AppError)
    title = _(exc.title)
    if _wants_json(request):
        headers = dict(exc.headers)
        if exc.status == 401:
            headers.setdefault("WWW-Authenticate", "Bearer")
        return _problem(exc.status, title, exc.message, exc.code, headers=headers, **exc.extra)
    if exc.status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"/login?next={quote(target)}", status_code=303)
    return _error_page(request, exc.status, title, exc.message, headers=exc.headers)


async def validation_error_handler(request: Request, exc: Exception) -> Response:
    """Malformed requests: 422 with every problem located (API), or a 400 page."""
    assert isinstance(exc, RequestValidationError)
    problems = [{"loc": list(e.get("loc", [])), "msg": str(e.get("msg", ""))}
                for e in exc.errors()]
    if _wants_json(request):
        return _problem(422, _("Invalid input"), _("The request is not valid."),
                        "validation_error", errors=problems)
    detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in problems)
    return _error_page(request, 400, _("Invalid input"), detail)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Unknown routes and wrong methods, in the same two shapes."""
    assert isinstance(exc, StarletteHTTPException)
    titles = {400: _("Bad request"), 404: _("Not found"), 405: _("Method not allowed")}
    title = titles.get(exc.status_code, _("Error"))
    details = {404: _("There is no page at this address."),
               405: _("This address does not accept that kind of request.")}
    detail = details.get(exc.status_code, str(exc.detail))
    if _wants_json(request):
        code = {400: "bad_request", 404: "not_found"}.get(exc.status_code, "http_error")
        return _problem(exc.status_code, title, detail, code,
                        headers=getattr(exc, "headers", None))
    return _error_page(request, exc.status_code, title, detail)


async def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    """A bug: logged with its traceback, shown as a plain 500 without internals."""
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    detail = _("Something went wrong on our side. Your last change was not saved; "
               "please try again.")
    if _wants_json(request):
        return _problem(500, _("Server error"), detail, "server_error")
    return _error_page(request, 500, _("Server error"), detail)


def _add_routes(app: FastAPI, router: APIRouter) -> None:
    # Since FastAPI 0.137 include_router() nests routers lazily, and app.routes no longer lists
    # the endpoints. Our routers' routes already carry their prefix and router dependencies, so
    # they are added flat: app.routes stays the one table that the contract check and the
    # authorization test walk.
    app.router.routes.extend(router.routes)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Background work of each app process: grading attempts whose deadline passed."""
    sweeper = Sweeper()
    sweeper.start()
    yield
    sweeper.stop()


def create_app() -> FastAPI:
    """Build the Pithead ASGI application."""
    app = FastAPI(title="Pithead", version="1.0", docs_url="/api/docs",
                  openapi_url="/api/openapi.json", redoc_url=None, lifespan=lifespan)
    app.add_middleware(PitheadMiddleware, on_error=unexpected_error_handler)
    app.add_middleware(RequestOriginMiddleware)
    app.add_exception_handler(errors.AppError, app_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(Exception, unexpected_error_handler)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/healthz", tags=["health"])
    def healthz() -> JSONResponse:
        """Liveness and database reachability."""
        try:
            with open_session(write=False) as db:
                db.execute(text("SELECT 1"))
            database = "ok"
        except Exception:  # noqa: BLE001 - any failure means the database is not ok
            log.exception("health check: database unreachable")
            database = "unavailable"
        status = 200 if database == "ok" else 503
        return JSONResponse({"status": "ok" if status == 200 else "degraded",
                             "database": database}, status_code=status)

    for router in (accounts_api.router, organisations_api.router, courses_api.router,
                   learning_api.router, exams_api.router, authoring_api.router,
                   practicals_api.router, certificates_api.router, credentials_api.router,
                   accounts_pages.router, organisations_pages.router, courses_pages.router,
                   learning_pages.router, class_pages.router, authoring_pages.router,
                   exams_pages.router, bank_api.router, bank_pages.router, examiner_pages.router,
                   practicals_pages.router, certificates_pages.router, experts_api.router,
                   experts_pages.router, oversight_api.router,
                   oversight_pages.router, transcript_api.router, transcript_pages.router,
                   assessment_api.router, assessment_pages.router):
        _add_routes(app, router)
    bound_int_params(app)
    app.openapi = partial(openapi.build, app)  # type: ignore[method-assign]
    get_engine()
    return app
