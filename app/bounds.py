"""Integer bounds for everything a client sends, and the one parser of page integers.

Every integer column is a PostgreSQL `integer` (SQLite's limit, 2**63, is wider), so a number
outside [-2**31, 2**31 - 1] can never name a row or be stored: it used to reach the database
and come back as a 500 (SQLite: "Python int too large to convert"; PostgreSQL: "integer out of
range"). Three pieces keep it out:

- `bound_int_params(app)` runs when the app is built and gives every integer path, query,
  header, cookie and form parameter of every route these bounds unless it declares narrower
  ones, so `GET /api/v1/enterprises/9223372036854775808` is a 422 (a 400 page for pages), and
  the OpenAPI document shows the `minimum`/`maximum`;
- JSON bodies use `DbInt` (or a narrower `Field`) for every integer field; a test walks every
  route's body model and fails on an unbounded one;
- pages that read integers out of raw query strings or forms use `parse_int`, which takes ASCII
  digits only (`"²".isdigit()` is true, `int("²")` fails) and answers 400 naming the field.

`PatchBody` is the base of PATCH bodies: a field left out keeps its value, and an explicit null
is a 422 unless the field says null means something (it used to reach the handler and crash).
"""

from __future__ import annotations

import types
from typing import Annotated, Any, ClassVar, Union, get_args, get_origin

import annotated_types
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    ValidationInfo,
    field_validator,
)
from pydantic_core import CoreSchema, PydanticCustomError

from app.errors import AppError
from app.i18n import N_
from app.i18n import gettext as _

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1

DbInt = Annotated[int, Field(ge=INT_MIN, le=INT_MAX)]
"""An integer that fits every integer column (ids, counts, minutes)."""

Id = Annotated[int, Field(ge=1, le=INT_MAX)]
"""A row id sent in a body: positive and within the column's range."""


class PatchBody(BaseModel):
    """A PATCH body. Fields are declared `X | None = None` so that a handler can tell what was
    sent (`model_dump(exclude_unset=True)`); an explicit null is refused with a 422 located at
    the field, except for the fields in `nullable` (where null means "clear"). The OpenAPI
    schema says the same: only the `nullable` fields accept null."""

    model_config = ConfigDict(extra="forbid")
    nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.nullable:
            raise PydanticCustomError(
                "null_not_allowed", "Must not be null: leave the field out to keep its value")
        return value

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema,
                                     handler: GetJsonSchemaHandler) -> dict[str, Any]:
        schema = handler(core_schema)
        resolved = handler.resolve_ref_schema(schema)
        for name, prop in resolved.get("properties", {}).items():
            if name in cls.nullable:
                continue
            prop.pop("default", None)
            options = prop.get("anyOf")
            if options:
                kept = [option for option in options if option.get("type") != "null"]
                if len(kept) == 1:
                    del prop["anyOf"]
                    prop.update(kept[0])
                else:
                    prop["anyOf"] = kept
        return schema


class BadParameter(AppError):
    """A query-string or form value that is not what the page needs (400)."""

    status = 400
    code = "bad_parameter"
    title = N_("Invalid input")


def parse_int(raw: str | None, *, name: str, minimum: int = INT_MIN, maximum: int = INT_MAX,
              default: int | None = None) -> int | None:
    """`raw` as an integer in [minimum, maximum]; `default` when it is missing or blank.

    Only ASCII digits with an optional leading minus count (no "²", no "٣", no "1_000", no
    spaces inside); anything else, or a number out of range, raises BadParameter naming `name`.
    """
    text = (raw or "").strip()
    if not text:
        return default
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 12:
        raise BadParameter(_("%(name)s must be a whole number.") % {"name": name})
    value = int(text)
    if not minimum <= value <= maximum:
        raise BadParameter(_("%(name)s must be between %(minimum)s and %(maximum)s.")
                           % {"name": name, "minimum": minimum, "maximum": maximum})
    return value


def _is_int(annotation: Any) -> bool:
    """int, or an optional int (`int | None`); bool is not an integer here."""
    if annotation is int:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return len(args) == 1 and args[0] is int
    return False


def _bound(field: Any) -> bool:
    """Add the missing lower/upper bound to a FastAPI parameter field; True if it changed."""
    info = field.field_info
    if info.annotation in (list[int], list[int] | None):  # repeated query or form values
        info.annotation = list[DbInt] | None if info.annotation != list[int] else list[DbInt]
        field.__post_init__()
        return True
    if not _is_int(info.annotation):
        return False
    kinds = {type(m) for m in info.metadata}
    changed = False
    if not kinds & {annotated_types.Le, annotated_types.Lt}:
        info.metadata.append(annotated_types.Le(INT_MAX))
        changed = True
    if not kinds & {annotated_types.Ge, annotated_types.Gt}:
        info.metadata.append(annotated_types.Ge(INT_MIN))
        changed = True
    if changed:
        # FastAPI builds the field's validator from field_info once: build it again.
        field.__post_init__()
    return changed


def bound_int_params(app: FastAPI) -> int:
    """Bound every integer parameter of every route (see the module docstring); returns how
    many fields got a bound. Idempotent."""
    count = 0
    seen: set[int] = set()

    def walk(dependant: Any) -> None:
        nonlocal count
        for fields in (dependant.path_params, dependant.query_params, dependant.header_params,
                       dependant.cookie_params, dependant.body_params):
            for field in fields:
                if id(field) not in seen:
                    seen.add(id(field))
                    count += _bound(field)
        for sub in dependant.dependencies:
            walk(sub)

    for route in app.routes:
        if isinstance(route, APIRoute):
            walk(route.dependant)
    app.openapi_schema = None
    return count
