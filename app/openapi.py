"""The OpenAPI document, made to say what the API does (issue 9 item 18).

FastAPI's own document knows nothing of our authentication (a dependency reads the bearer
token) nor of our errors (problem+json from exception handlers). This adds, for every `/api/`
operation:

- the OAuth2 password scheme (token from `POST /api/v1/auth/token`, sent as a bearer token) on
  the operations that need a signed-in user, and as optional on those that only use one;
- the problem+json error responses it can give, with one `Problem` schema: 401 and 403 when it
  needs a user (403 also for roles and the CSRF check of cookie sessions), 400 when it takes a
  body (one that cannot be parsed at all: not UTF-8), 404 when it names
  an object (path parameters, ids in a body, or a query naming one: `region`, `snapshots`,
  `*_id`), 409 for writes, 422 when it takes any input,
  429 for throttled operations; FastAPI's 422 `HTTPValidationError` (not what we send) is
  replaced.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.accounts.deps import current_user, optional_user

SCHEME = "OAuth2Password"
PROBLEM = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details. Validation failures (422) add `errors`.",
    "type": "object",
    "required": ["status", "title", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "status": {"type": "integer"},
        "title": {"type": "string"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "stable snake_case error code"},
        "errors": {"type": "array", "items": {"type": "object"},
                   "description": 'where and why: `{"loc": [...], "msg": "..."}` (import rows: '
                                  '`{"row", "column", "message"}`)'},
        "retry_after": {"type": "integer", "description": "429: seconds to wait"},
    },
    "additionalProperties": True,
}
DESCRIPTIONS = {
    "400": "Bad request", "401": "Not signed in (or the token expired)",
    "403": "Signed in, but not allowed (role, jurisdiction or CSRF)",
    "404": "No such object, or not one the caller may see", "409": "Conflicts with the state",
    "422": "Invalid input", "429": "Too many attempts: wait `Retry-After` seconds",
}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def _calls(route: APIRoute) -> set[Any]:
    found: set[Any] = set()
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        found.add(dependant.call)
        stack += dependant.dependencies
    return found


def _inputs(route: APIRoute) -> tuple[bool, bool]:
    """(takes any parameter or body, names an object by path or body)."""
    stack, takes, names = [route.dependant], False, False
    while stack:
        dependant = stack.pop()
        if dependant.path_params:
            takes = names = True
        if dependant.query_params or dependant.header_params or dependant.cookie_params:
            takes = True
        if any(_names_object(param.name) for param in dependant.query_params):
            names = True  # e.g. ?region= outside the caller's jurisdiction, ?snapshots=1,2
        if dependant.body_params:
            takes = names = True
        stack += dependant.dependencies
    return takes, names


# Query parameters that name objects the caller may not see (answered 404 like a path id).
OBJECT_QUERIES = frozenset({"region", "snapshots", "enterprise_id", "course_id", "worker_id"})


def _names_object(name: str) -> bool:
    return name in OBJECT_QUERIES or name.endswith("_ids")


def _bodies(route: APIRoute) -> list[bool]:
    stack, found = [route.dependant], []
    while stack:
        dependant = stack.pop()
        found.append(bool(dependant.body_params))
        stack += dependant.dependencies
    return found


def _throttled(route: APIRoute) -> bool:
    names = {getattr(call, "__name__", "") or type(call).__name__ for call in _calls(route)}
    return route.path == "/api/v1/auth/token" or any("throttle" in n.lower() for n in names)


def error_statuses(route: APIRoute) -> list[str]:
    """The error statuses `route` can answer (see the module docstring)."""
    if route.path == "/api/v1/auth/token":
        return ["401", "422", "429"]
    calls = _calls(route)
    takes, names = _inputs(route)
    statuses = set()
    if current_user in calls:
        statuses |= {"401", "403"}
    if names:
        statuses.add("404")
    if any(_bodies(route)):
        statuses.add("400")  # a body that cannot be parsed at all (not JSON, not UTF-8)
    if (route.methods or set()) & WRITES:
        statuses |= {"409", "422"}
    if takes:
        statuses.add("422")
    if _throttled(route):
        statuses.add("429")
    return sorted(statuses)


def build(app: FastAPI) -> dict[str, Any]:
    """The document (cached on the app like FastAPI's own)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, routes=app.routes,
                         description="Errors are RFC 9457 problem details "
                                     "(`application/problem+json`).")
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    components["schemas"].pop("HTTPValidationError", None)
    components["schemas"].pop("ValidationError", None)
    components["securitySchemes"] = {SCHEME: {
        "type": "oauth2", "description": "Bearer token from POST /api/v1/auth/token",
        "flows": {"password": {"tokenUrl": "/api/v1/auth/token", "scopes": {}}}}}
    for route in app.routes:
        if not (isinstance(route, APIRoute) and route.include_in_schema):
            continue
        item = schema["paths"].get(route.path_format, {})
        calls = _calls(route)
        for method in route.methods or ():
            operation = item.get(method.lower())
            if operation is None:
                continue
            if current_user in calls:
                operation["security"] = [{SCHEME: []}]
            elif optional_user in calls:
                operation["security"] = [{}, {SCHEME: []}]
            responses = operation.setdefault("responses", {})
            for status in error_statuses(route):
                responses[status] = {"description": DESCRIPTIONS[status],
                                     "content": {PROBLEM: {"schema": PROBLEM_REF}}}
    app.openapi_schema = schema
    return schema
