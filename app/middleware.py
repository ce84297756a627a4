"""Pure ASGI middleware: locale, security headers and the cookies pages leave behind."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import i18n
from app.config import get_settings
from app.web import ANON_CSRF_COOKIE, FLASH_COOKIE, encode_flashes, request_locale

# Everything is served from our own origin; no inline script or style of ours, so the
# policy can stay strict. WebGL viewers read textures from same-origin images and blobs.
# The vendored A-Frame (static/vendor/aframe, the panorama lessons) injects its stylesheet as a
# <style> element, first empty and then filled: those two exact texts are allowed by their
# SHA-256 (no 'unsafe-inline'). Upgrading A-Frame changes the second hash: take it from the
# browser's CSP message (tests/browser/test_panorama.py fails on any console error).
AFRAME_STYLE_HASHES = ("'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' "  # the empty one
                       "'sha256-v7XYwoR6kd4w8P/jKJwhD8xtQ9lX51WNsDeaJBRcNMc='")
CSP = ("default-src 'self'; script-src 'self'; "
       f"style-src 'self' {AFRAME_STYLE_HASHES}; img-src 'self' data: blob:; "
       "media-src 'self' blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
       "frame-src 'self'; frame-ancestors 'self'; base-uri 'self'; form-action 'self'")


def _cookie(name: str, value: str, *, max_age: int | None, http_only: bool = True) -> str:
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    morsel = cookie[name]
    morsel["path"] = "/"
    morsel["samesite"] = "Lax"
    if http_only:
        morsel["httponly"] = True
    if max_age is not None:
        morsel["max-age"] = max_age
    if get_settings().secure_cookies:
        morsel["secure"] = True
    return morsel.OutputString()


class PitheadMiddleware:
    """Sets the request's locale and adds headers and pending cookies to every response."""

    def __init__(self, app: ASGIApp,
                 on_error: Callable[[Request, Exception], Awaitable[Response]] | None = None
                 ) -> None:
        self.app = app
        self.on_error = on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        token = i18n.set_locale(request_locale(request))
        state: dict[str, Any] = scope.setdefault("state", {})
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CSP)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("X-Frame-Options", "SAMEORIGIN")
                if not scope["path"].startswith("/static/"):
                    headers.setdefault("Cache-Control", "no-store")
                    headers.append("Vary", "Cookie, Accept-Language")
                for line in _pending_cookies(state, request):
                    headers.append("Set-Cookie", line)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            # An unexpected error's page is rendered here, inside this middleware, so that it
            # gets the security headers and the locale like every other response (Starlette's
            # outermost error middleware would send it past us). Re-raised for the server log.
            if started or self.on_error is None:
                raise
            response = await self.on_error(request, exc)
            # The server drops the connection after an exception: say so, so that a keep-alive
            # client does not send its next request into a closing socket.
            response.headers["Connection"] = "close"
            await response(scope, receive, send_wrapper)
            raise
        finally:
            i18n._current.reset(token)


def _pending_cookies(state: dict[str, Any], request: Request) -> list[str]:
    lines = []
    if state.get("new_anon_csrf"):
        lines.append(_cookie(ANON_CSRF_COOKIE, state["new_anon_csrf"], max_age=None))
    outgoing = state.get("flash_out")
    if outgoing and not state.get("flash_rendered"):
        lines.append(_cookie(FLASH_COOKIE, encode_flashes(outgoing), max_age=300))
    elif state.get("clear_flash"):
        lines.append(_cookie(FLASH_COOKIE, "", max_age=0))
    for line in state.get("set_cookies", []):
        lines.append(line)
    return lines


def set_cookie(request: Request, name: str, value: str, *, max_age: int | None,
               http_only: bool = True) -> None:
    """Queue a cookie for the response, whatever response the route returns."""
    request.state.set_cookies = [*getattr(request.state, "set_cookies", []),
                                 _cookie(name, value, max_age=max_age, http_only=http_only)]
