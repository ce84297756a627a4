"""The public address of this server, used in every link that leaves it: the QR code and the
printed link on a certificate, and every URL inside a signed credential.

One rule: the configured PITHEAD_BASE_URL when set (required when PITHEAD_ENV=production, so a
credential never names an address a client happened to send); otherwise, in development and
tests, the origin of the request being served (scheme and host as the client used them, after
the proxy headers uvicorn trusts). Outside a request, and with nothing configured, the local
development server's address."""

from __future__ import annotations

from contextvars import ContextVar

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import get_settings

DEVELOPMENT_FALLBACK = "http://127.0.0.1:8000"
_origin: ContextVar[str | None] = ContextVar("request_origin", default=None)


def base_url() -> str:
    """The public base URL, without a trailing slash."""
    configured = get_settings().base_url
    if configured:
        return configured.rstrip("/")
    return (_origin.get() or DEVELOPMENT_FALLBACK).rstrip("/")


class RequestOriginMiddleware:
    """Remembers the request's own origin (scheme, host and root path) for `base_url()`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _origin.set(str(Request(scope).base_url))
        try:
            await self.app(scope, receive, send)
        finally:
            _origin.reset(token)
