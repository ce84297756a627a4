"""Everything pages share: templates, locale, CSRF, flash messages, form and htmx helpers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

import jinja2
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.datastructures import FormData

from app import i18n
from app.accounts.models import ROLE_LABELS, Role
from app.config import get_settings
from app.db import SAFE_METHODS
from app.errors import CsrfFailed

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
LOCALE_COOKIE = "pithead_lang"
ANON_CSRF_COOKIE = "pithead_csrf"
FLASH_COOKIE = "pithead_flash"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

templates = Jinja2Templates(env=jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
    # Every template is HTML: escape always, whatever the file name.
    autoescape=True, extensions=["jinja2.ext.i18n"], auto_reload=False))
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext, i18n.ngettext, newstyle=True
)
templates.env.filters["date"] = lambda value, fmt="medium": i18n.format_date(value, fmt=fmt)
templates.env.filters["datetime"] = lambda value, fmt="medium": i18n.format_datetime(value, fmt=fmt)
templates.env.globals["LOCALES"] = i18n.LOCALES
templates.env.globals["LOCALE_NAMES"] = i18n.LOCALE_NAMES
templates.env.globals["Role"] = Role
STATIC_VERSION = "1"


def static_url(path: str) -> str:
    """A same-origin path to a static file, versioned so browsers may cache it for long."""
    return f"/static/{path}?v={STATIC_VERSION}"


def query_string(params: dict[str, Any], **overrides: Any) -> str:
    """A query string of the non-empty `params` with `overrides` applied (for paging links)."""
    merged = {**params, **overrides}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "")})


def localised_name(item: Any) -> str:
    """The name of a reference item ({en, zh} dict, or a Region) in the current language."""
    chinese = i18n.get_locale() == "zh_CN"
    if item is None:
        return ""
    if isinstance(item, dict):
        return str(item.get("zh") if chinese and item.get("zh") else item.get("en", ""))
    return str(item.name_zh if chinese else item.name_en)


def role_label(role: str) -> str:
    """A role's name in the current language."""
    try:
        return i18n.gettext(ROLE_LABELS[Role(role)])
    except ValueError:
        return role


templates.env.globals["region_name"] = localised_name
templates.env.globals["category_name"] = localised_name
templates.env.globals["localised_name"] = localised_name
templates.env.globals["localised_title"] = i18n.localized
templates.env.filters["role_label"] = role_label
templates.env.globals["static_url"] = static_url
templates.env.globals["query_string"] = query_string


# --- locale -------------------------------------------------------------------------------

def request_locale(request: Request) -> str:
    """The user's chosen language (cookie), else the browser's Accept-Language."""
    chosen = i18n.normalise_locale(request.cookies.get(LOCALE_COOKIE))
    return chosen or i18n.negotiate(request.headers.get("accept-language"))


# --- CSRF ---------------------------------------------------------------------------------

def _sign(value: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The CSRF token for this browser: bound to the login session, or to an anonymous cookie."""
    session_token = getattr(request.state, "session_token", None)
    if session_token:
        return _sign("session:" + session_token)
    anon = request.cookies.get(ANON_CSRF_COOKIE) or getattr(request.state, "new_anon_csrf", None)
    if not anon:
        anon = secrets.token_urlsafe(32)
        request.state.new_anon_csrf = anon  # the middleware sets the cookie on the way out
    return _sign("anon:" + anon)


def _valid_csrf(request: Request, supplied: str | None) -> bool:
    if not supplied:
        return False
    session_token = getattr(request.state, "session_token", None)
    expected = []
    if session_token:
        expected.append(_sign("session:" + session_token))
    anon = request.cookies.get(ANON_CSRF_COOKIE)
    if anon:
        expected.append(_sign("anon:" + anon))
    return any(hmac.compare_digest(supplied, token) for token in expected)


async def verify_csrf(request: Request) -> None:
    """Router dependency: every unsafe page request must carry the CSRF token (form or header)."""
    if request.method in SAFE_METHODS:
        return
    supplied = request.headers.get(CSRF_HEADER)
    if not supplied and "form" in request.headers.get("content-type", ""):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        supplied = value if isinstance(value, str) else None
    if not _valid_csrf(request, supplied):
        raise CsrfFailed(i18n.gettext("The form expired or did not come from this site. "
                                      "Reload the page and try again."))


def check_csrf_header(request: Request) -> None:
    """Cookie-authenticated API writes (htmx, fetch) must send the token in X-CSRF-Token."""
    if request.method not in SAFE_METHODS and not _valid_csrf(request,
                                                              request.headers.get(CSRF_HEADER)):
        raise CsrfFailed(i18n.gettext("Missing or wrong X-CSRF-Token header."))


# --- flash messages -------------------------------------------------------------------------

def flash(request: Request, message: str, category: str = "success") -> None:
    """Show `message` on the next page this browser renders."""
    pending = getattr(request.state, "flash_out", None) or []
    pending.append({"message": message, "category": category})
    request.state.flash_out = pending


def encode_flashes(items: list[dict[str, str]]) -> str:
    """Sign flash messages for a cookie."""
    payload = base64.urlsafe_b64encode(json.dumps(items, ensure_ascii=False).encode()).decode()
    return payload + "." + _sign("flash:" + payload)


def decode_flashes(cookie: str | None) -> list[dict[str, str]]:
    """Read flash messages back from their cookie; anything tampered with is dropped."""
    if not cookie or "." not in cookie:
        return []
    payload, signature = cookie.rsplit(".", 1)
    if not hmac.compare_digest(signature, _sign("flash:" + payload)):
        return []
    try:
        items = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except ValueError:
        return []
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


# --- rendering ----------------------------------------------------------------------------

def is_htmx(request: Request) -> bool:
    """True for requests made by htmx (they get a partial, not the whole page)."""
    return request.headers.get("hx-request") == "true"


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """Render a template with what every page needs (user, locale, CSRF, flashes)."""
    flashes = getattr(request.state, "flash_in", None)
    if flashes is None:
        flashes = decode_flashes(request.cookies.get(FLASH_COOKIE))
        request.state.flash_in = flashes
        request.state.clear_flash = bool(flashes)
    outgoing = getattr(request.state, "flash_out", None) or []
    if outgoing:
        request.state.flash_rendered = True  # shown now: no cookie for the next page
    merged: dict[str, Any] = {
        "request": request,
        "user": getattr(request.state, "user", None),
        "locale": i18n.get_locale(),
        "csrf_token": csrf_token(request),
        "flashes": flashes + outgoing,
    }
    merged.update(context or {})
    return templates.TemplateResponse(request, template, merged, status_code=status_code,
                                      headers=headers)


def redirect(url: str, *, status_code: int = 303) -> Response:
    """A redirect after a POST (303, so the browser follows with GET)."""
    return RedirectResponse(url, status_code=status_code)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths are followed after login (no open redirects)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    # Browsers read "\" as "/" and drop tabs and newlines: "/\evil.com" would leave the site.
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return default
    return target


# Pydantic's own messages are English; the forms show these instead (by error type).
_VALIDATION_MESSAGES = {
    "missing": i18n.N_("This field is required."),
    "string_too_short": i18n.N_("This field is required."),
    "too_short": i18n.N_("Choose at least one."),
    "string_too_long": i18n.N_("This is too long."),
    "too_long": i18n.N_("Too many items."),
    "enum": i18n.N_("Choose one of the options."),
    "literal_error": i18n.N_("Choose one of the options."),
    "int_parsing": i18n.N_("Enter a whole number."),
    "float_parsing": i18n.N_("Enter a number."),
    "greater_than": i18n.N_("The number is too small."),
    "greater_than_equal": i18n.N_("The number is too small."),
    "less_than": i18n.N_("The number is too large."),
    "less_than_equal": i18n.N_("The number is too large."),
    "date_parsing": i18n.N_("Enter a date such as 2026-11-28."),
    "date_from_datetime_parsing": i18n.N_("Enter a date such as 2026-11-28."),
    "string_pattern_mismatch": i18n.N_("This value has the wrong format."),
    "extra_forbidden": i18n.N_("This field is not expected here."),
}


def form_errors(errors: list[dict[str, Any]]) -> dict[str, str]:
    """Errors keyed by field name, for re-rendering a form. Our own errors (from services)
    are already translated; Pydantic's are replaced by translated messages of their type."""
    result: dict[str, str] = {}
    for error in errors:
        loc = [str(part) for part in error.get("loc", []) if part not in ("body",)]
        key = loc[-1] if loc else "__all__"
        if key.isdigit() and len(loc) > 1:  # a list item: report it on the list field
            key = loc[-2]
        template = _VALIDATION_MESSAGES.get(str(error.get("type", "")))
        message = i18n.gettext(template) if template else str(error.get("msg", ""))
        result.setdefault(key, message)
    return result


async def _request_form(request: Request) -> FormData:
    return await request.form()


# The parsed form of a page POST (parsed once; Starlette caches it on the request).
FormDep = Annotated[FormData, Depends(_request_form)]


def form_text(form: FormData, name: str) -> str:
    """A text field of a form ('' when absent or a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def form_dict(form: FormData) -> dict[str, Any]:
    """A form as a dict; repeated fields (checkbox groups) become lists."""
    result: dict[str, Any] = {}
    for key in form.keys():  # noqa: SIM118 - FormData is a multi-dict
        if key == CSRF_FIELD:
            continue
        values = form.getlist(key)
        result[key] = values if len(values) > 1 else values[0]
    return result


def parse_iso_date(value: str | None) -> date | None:
    """A YYYY-MM-DD query or form value, or None when empty or not a date."""
    try:
        return date.fromisoformat(value.strip()) if value and value.strip() else None
    except ValueError:
        return None


def markup(text: str) -> Markup:
    """Trusted HTML produced by our own code (sanitized Markdown), never raw user input."""
    return Markup(text)  # noqa: S704 - callers pass sanitized HTML only
