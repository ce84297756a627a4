"""Gettext catalogs (en, zh_CN), the request's locale, and locale-aware formatting.

Catalogs are read from the .po files at start-up, so a fresh clone needs no compile step.
"""

from __future__ import annotations

import contextvars
import gettext as _gettext
from datetime import date, datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
LOCALES: tuple[str, ...] = ("en", "zh_CN")
DEFAULT_LOCALE = "en"
LOCALE_NAMES = {"en": "English", "zh_CN": "简体中文"}
# Mines, exams and certificates all live on Beijing time.
LOCAL_TZ = ZoneInfo("Asia/Shanghai")

_current: contextvars.ContextVar[str] = contextvars.ContextVar("locale", default=DEFAULT_LOCALE)


@lru_cache
def _catalog(locale: str) -> _gettext.NullTranslations:
    po = TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return _gettext.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def set_locale(locale: str) -> contextvars.Token[str]:
    """Make `locale` the current one for this request (or task)."""
    return _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def get_locale() -> str:
    """The locale of the current request."""
    return _current.get()


def gettext(message: str) -> str:
    """Translate `message` into the current locale."""
    return _catalog(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message with a plural form."""
    return _catalog(_current.get()).ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message


def localized(value: dict[str, str] | None, locale: str | None = None) -> str:
    """The text of a {locale: text} map (titles of courses and lessons) in `locale` (default:
    the current one), falling back to English."""
    if not value:
        return ""
    return value.get(locale or get_locale()) or value.get("en") or next(iter(value.values()), "")


def normalise_locale(value: str | None) -> str | None:
    """Map 'zh-CN', 'zh_cn', 'zh-Hans', 'zh' to 'zh_CN' and 'en-GB' to 'en'; None if unsupported."""
    if not value:
        return None
    tag = value.strip().replace("-", "_").lower()
    if tag.startswith("zh"):
        return "zh_CN"
    if tag.startswith("en"):
        return "en"
    return None


def site_default() -> str:
    """The language used when the browser names none we support (PITHEAD_DEFAULT_LOCALE)."""
    from app.config import get_settings

    return normalise_locale(get_settings().default_locale) or DEFAULT_LOCALE


def negotiate(accept_language: str | None) -> str:
    """Pick a supported locale from an Accept-Language header (q-values honoured)."""
    if not accept_language:
        return site_default()
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        weighted.append((-quality, position, tag))
    for negative_quality, _position, tag in sorted(weighted):
        locale = normalise_locale(tag)
        if locale and negative_quality < 0:
            return locale
    return site_default()


def format_date(value: date | None, *, fmt: str = "medium") -> str:
    """A date in the current locale ('' for None)."""
    if value is None:
        return ""
    return _format_date(value, format=fmt, locale=Locale.parse(get_locale()))


def format_datetime(value: datetime | None, *, fmt: str = "medium") -> str:
    """A timestamp in the current locale, shown in China Standard Time."""
    if value is None:
        return ""
    return _format_datetime(value, format=fmt, tzinfo=LOCAL_TZ,
                            locale=Locale.parse(get_locale()))
