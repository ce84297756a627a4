"""Bad input is a clear 4xx, never a 5xx (issue 9 items 11, 12, 16, 17).

The route walks below cover every route that exists when the test runs, so a new route with an
unbounded integer or a parser that trips over "²" fails here without a new test.
"""

from __future__ import annotations

import re
import socket
import threading
import time
import typing
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel

from app import bounds
from app.accounts.models import Role
from tests import factories as f

HUGE = 2**63
BAD_INTS = (str(HUGE), str(-HUGE - 1), "-1", "0", "²")


def _int_path_params(route: APIRoute) -> list[str]:
    """Integer path parameters of the route and of its dependencies (VisibleEnterprise...)."""
    names: set[str] = set()
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        names |= {p.name for p in dependant.path_params
                  if bounds._is_int(p.field_info.annotation)}
        stack += dependant.dependencies
    return sorted(names)


def _get_routes(app: FastAPI) -> list[tuple[APIRoute, list[str]]]:
    found = []
    for route in app.routes:
        if isinstance(route, APIRoute) and "GET" in route.methods:
            params = _int_path_params(route)
            if params:
                found.append((route, params))
    return found


def _urls(route: APIRoute, params: list[str]) -> Iterator[str]:
    """The route's path with each bad value in every integer parameter (others: 1)."""
    for bad in BAD_INTS:
        url = route.path_format
        for name in params:
            url = url.replace("{" + name + "}", bad)
        # Non-integer parameters (codes, tokens) get a plain word.
        yield re.sub(r"\{[^}]+\}", "x", url)


@pytest.fixture
def admin(db) -> str:  # type: ignore[no-untyped-def]
    ent = f.enterprise(db)
    f.worker(db, ent)
    user = f.user(db, Role.ADMIN)
    db.commit()
    return user.username


def test_the_walk_sees_the_routes_it_must(app) -> None:  # type: ignore[no-untyped-def]
    paths = {route.path for route, _ in _get_routes(app)}
    assert any(p.startswith("/api/v1/enterprises/{") for p in paths)
    assert "/practicals/sessions/{session_id}" in paths
    assert len(paths) > 20


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_no_integer_path_parameter_gives_a_server_error(app, make_client, admin: str,
                                                        who: str) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    headers: dict[str, str] = {}
    if who == "admin":
        f.login(client, admin)
        headers = f.token(client, admin)
    failures = []
    for route, params in _get_routes(app):
        for url in _urls(route, params):
            response = client.get(url, headers=headers, follow_redirects=False)
            if response.status_code >= 500:
                failures.append(f"{url}: {response.status_code}")
            elif who == "admin" and url.startswith("/api/") and response.status_code == 422:
                assert response.headers["content-type"].startswith("application/problem+json")
    assert not failures, "\n".join(failures)


def test_a_huge_id_is_a_clear_422_in_the_api(client, admin: str) -> None:  # type: ignore[no-untyped-def]
    headers = f.token(client, admin)
    response = client.get(f"/api/v1/enterprises/{HUGE}", headers=headers)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["errors"][0]["loc"] == ["path", "enterprise_id"]
    # A negative or zero id simply names nothing.
    assert client.get("/api/v1/enterprises/0", headers=headers).status_code == 404


def test_a_huge_id_on_a_page_is_a_400_page(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/practicals/sessions/{HUGE}", follow_redirects=False)
    assert response.status_code == 400
    assert "session_id" in response.text


def test_openapi_shows_the_bounds(app) -> None:  # type: ignore[no-untyped-def]
    schema = app.openapi()
    path = next(p for p in schema["paths"] if re.fullmatch(r"/api/v1/enterprises/\{\w+\}", p))
    param = schema["paths"][path]["get"]["parameters"][0]
    assert param["schema"]["maximum"] == bounds.INT_MAX
    assert param["schema"]["minimum"] == bounds.INT_MIN


def _unbounded_ints(model: type[BaseModel], where: str, seen: set[type]) -> Iterator[str]:
    if model in seen:
        return
    seen.add(model)
    for name, info in model.model_fields.items():
        yield from _check_annotation(info.annotation, info.metadata, f"{where}.{name}", seen)


def _check_annotation(annotation: typing.Any, metadata: list[typing.Any], where: str,
                      seen: set[type]) -> Iterator[str]:
    import annotated_types

    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        yield from _check_annotation(base, [*metadata, *extra], where, seen)
        return
    if bounds._is_int(annotation):
        kinds = {type(m) for m in metadata}
        for m in metadata:  # Field(ge=..., le=...) inside Annotated keeps its own metadata
            kinds |= {type(x) for x in getattr(m, "metadata", [])}
        upper = kinds & {annotated_types.Le, annotated_types.Lt}
        lower = kinds & {annotated_types.Ge, annotated_types.Gt}
        if not (upper and lower):
            yield where
        return
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from _unbounded_ints(annotation, annotation.__name__, seen)
        return
    for arg in typing.get_args(annotation):
        yield from _check_annotation(arg, [], where + "[]", seen)


def test_every_integer_in_a_request_body_is_bounded(app) -> None:  # type: ignore[no-untyped-def]
    problems: list[str] = []
    seen: set[type] = set()
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        for field in route.dependant.body_params:
            annotation = field.field_info.annotation
            problems += _check_annotation(annotation, list(field.field_info.metadata),
                                          f"{route.path} {field.name}", seen)
    assert not problems, "unbounded integers (use app.bounds.DbInt/Id): " + ", ".join(problems)


# parse_int: the one parser of integers in query strings and forms.

@pytest.mark.parametrize("raw", ["²", "٣", "1_000", "1.5", "abc", "--1", "1 2", "+1",
                                 "99999999999999"])
def test_parse_int_refuses_what_is_not_a_plain_number(raw: str) -> None:
    with pytest.raises(bounds.BadParameter) as caught:
        bounds.parse_int(raw, name="go")
    assert caught.value.status == 400
    assert "go" in caught.value.message


def test_parse_int_bounds_and_defaults() -> None:
    assert bounds.parse_int(" 42 ", name="n") == 42
    assert bounds.parse_int("-3", name="n") == -3
    assert bounds.parse_int("", name="n", default=7) == 7
    assert bounds.parse_int(None, name="n") is None
    with pytest.raises(bounds.BadParameter, match="between 1 and 10"):
        bounds.parse_int("11", name="n", minimum=1, maximum=10)


@pytest.mark.parametrize("url", [
    "/certificates?due=²", "/certificates?due=99999999999", "/certificates?due=abc",
    "/my/hours?year=99999", "/my/hours?year=²",
    "/admin/users?enterprise_id=abc", "/admin/users?enterprise_id=²",
])
def test_page_query_strings_are_parsed_or_refused(client, admin: str, url: str) -> None:  # type: ignore[no-untyped-def]
    f.login(client, admin)
    response = client.get(url, follow_redirects=False)
    assert response.status_code < 500, (url, response.status_code)


# LIKE: `%`, `_` and the escape character typed into a search box match themselves.

@pytest.mark.parametrize(("query", "expected"), [
    ("100%", {"100% Coal"}), ("1_0", {"1_0 Mining"}), ("a!b", {"a!b Works"}),
    ("%", {"100% Coal"}), ("_", {"1_0 Mining"}), ("Coal", {"100% Coal", "100X Coal"}),
])
def test_search_wildcards_match_literally(db, query: str, expected: set[str]) -> None:  # type: ignore[no-untyped-def]
    from app.accounts import service as accounts
    from app.organisations import service as organisations

    names = {"100% Coal", "100X Coal", "1_0 Mining", "1X0 Mining", "a!b Works"}
    ent = f.enterprise(db)
    for name in sorted(names):
        f.worker(db, ent, full_name=name)
    db.flush()
    workers, _ = organisations.list_workers(db=db, enterprise_id=ent.id, query=query,
                                            page_size=50)
    assert {w.full_name for w in workers} == expected
    users, _ = accounts.list_users(db=db, query=query, page_size=50)
    assert {u.full_name for u in users} & names == expected


# After a 500 the server closes the connection: the response must say `Connection: close`.

def test_a_server_error_closes_the_connection_and_says_so(app) -> None:  # type: ignore[no-untyped-def]
    import http.client

    import uvicorn

    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/api/v1/test-boom", boom, methods=["GET"])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/healthz")
        first = connection.getresponse()
        first.read()
        assert first.status == 200
        assert (first.getheader("Connection") or "").lower() != "close"
        connection.request("GET", "/api/v1/test-boom")  # the same kept-alive connection
        failed = connection.getresponse()
        body = failed.read()
        assert failed.status == 500
        assert failed.getheader("Content-Type", "").startswith("application/problem+json")
        assert b'"server_error"' in body
        assert failed.getheader("Connection", "").lower() == "close"
        connection.close()
        # The server itself is fine: a new connection is served.
        again = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        again.request("GET", "/healthz")
        assert again.getresponse().status == 200
        again.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# The OpenAPI document tells the truth about authentication and errors (item 18).

def test_openapi_has_the_bearer_scheme_and_problem_responses(app) -> None:  # type: ignore[no-untyped-def]
    schema = app.openapi()
    scheme = schema["components"]["securitySchemes"]["OAuth2Password"]
    assert scheme["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    me = schema["paths"]["/api/v1/me"]["get"]
    assert me["security"] == [{"OAuth2Password": []}]
    assert {"401", "403"} <= set(me["responses"])
    token = schema["paths"]["/api/v1/auth/token"]["post"]
    assert "security" not in token and {"401", "422", "429"} <= set(token["responses"])
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    assert response["content"] == {"application/problem+json": {
                        "schema": {"$ref": "#/components/schemas/Problem"}}}, (path, method)
            if "{" in path and path.startswith("/api/"):
                assert "404" in operation["responses"], (path, method)
    # A query that names an object outside the caller's reach answers 404 too (found by make fuzz).
    for path in ("/api/v1/assessment.xlsx", "/api/v1/assessment", "/api/v1/oversight"):
        assert "404" in schema["paths"][path]["get"]["responses"], path


def test_error_responses_match_the_problem_schema(app, client, admin: str) -> None:  # type: ignore[no-untyped-def]
    import jsonschema

    problem = app.openapi()["components"]["schemas"]["Problem"]
    headers = f.token(client, admin)
    answers = [client.get("/api/v1/me"),  # 401
               client.get(f"/api/v1/enterprises/{HUGE}", headers=headers),  # 422
               client.get("/api/v1/enterprises/123456", headers=headers),  # 404
               client.post("/api/v1/enrolments", headers={**headers,
                           "Content-Type": "application/json"}, content=b"Q\xff\xfa")]  # 400
    assert [a.status_code for a in answers] == [401, 422, 404, 400]
    for answer in answers:
        assert answer.headers["content-type"].startswith("application/problem+json")
        jsonschema.validate(answer.json(), problem)
    assert answers[3].json()["code"] == "bad_request"
