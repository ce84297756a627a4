"""The `pithead` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Pithead: mine-safety training, examination and certification.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
demo_app = typer.Typer(help="Demonstration data.", no_args_is_help=True)
courses_app = typer.Typer(help="Course packages.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(courses_app, name="courses")
app.add_typer(users_app, name="users")
app.add_typer(demo_app, name="demo")
certificates_app = typer.Typer(help="Certificates and signed credentials.", no_args_is_help=True)
app.add_typer(certificates_app, name="certificates")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database named by PITHEAD_DATABASE_URL."""
    from app import schema
    from app.config import get_settings

    schema.upgrade()
    typer.echo(f"database is up to date: {_redact(get_settings().database_url)}")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option(help="Login name")],
    password: Annotated[str, typer.Option(help="At least 8 characters")],
    role: Annotated[list[str], typer.Option(help="admin, regulator, enterprise_admin, trainer, "
                                                 "examiner or worker; repeatable")],
    full_name: Annotated[str, typer.Option(help="Display name")] = "",
    region: Annotated[str | None, typer.Option(help="GB/T 2260 region (regulators)")] = None,
    enterprise_id: Annotated[int | None, typer.Option(help="Enterprise id")] = None,
) -> None:
    """Create a user and print its id."""
    from app.accounts import service as accounts
    from app.db import open_session
    from app.errors import AppError
    from app.organisations import service as organisations

    with open_session(write=True) as db:
        try:
            region_code = organisations.clean_region_code(db=db, value=region, field="region")
            if enterprise_id is not None:
                organisations.get_enterprise_or_404(db=db, enterprise_id=enterprise_id)
            user = accounts.create_user(db=db, username=username, password=password,
                                        full_name=full_name, roles=role,
                                        enterprise_id=enterprise_id, region_code=region_code,
                                        by=None)
            db.commit()
        except AppError as exc:
            detail = "; ".join(str(e.get("msg")) for e in exc.extra.get("errors", []))
            typer.echo(f"error: {exc.message}{': ' + detail if detail else ''}", err=True)
            raise typer.Exit(2) from None
    typer.echo(user.id)


@courses_app.command("import")
def courses_import(path: Annotated[Path, typer.Argument(help="A package folder, or a folder of "
                                                            "package folders")]) -> None:
    """Import course packages; idempotent; a broken package is refused whole."""
    from app.courses.importer import import_path

    failed = False
    for line, ok in import_path(path):
        typer.echo(line, err=not ok)
        failed = failed or not ok
    if failed:
        raise typer.Exit(1)


@demo_app.command("load")
def demo_load() -> None:
    """Load idempotent demo data and print the demo logins."""
    from app import demo, schema

    schema.upgrade()
    logins = demo.load()
    typer.echo("\nDemo logins (username / password):")
    for role, username, password, note in logins:
        typer.echo(f"  {role:<17} {username:<20} {password:<14} {note}")


@certificates_app.command("rotate-key")
def certificates_rotate_key() -> None:
    """Retire the credential signing key and create a new one (old keys stay in the JWKS)."""
    from app.certificates import credentials
    from app.db import open_session

    with open_session(write=True) as db:
        kid = credentials.rotate_key(db)
        db.commit()
    typer.echo(f"new signing key: {kid}")


@certificates_app.command("lifecycle")
def certificates_lifecycle(
    on: Annotated[str | None, typer.Option(help="The day to run for (YYYY-MM-DD); default "
                                                "today in Beijing")] = None,
) -> None:
    """Run the certificates' daily pass once: reminders, review enrolments, reviews, expiry."""
    from datetime import date

    from app.certificates import lifecycle, service
    from app.db import open_session

    day = date.fromisoformat(on) if on else service.today()
    with open_session(write=True) as db:
        outcome = lifecycle.run(db, day)
        db.commit()
    typer.echo(f"{day}: {outcome.reminders} reminders, {outcome.enrolments} review enrolments, "
               f"{outcome.reviewed} reviews recorded, {outcome.expired} expired")
    for note in outcome.notes:
        typer.echo(f"- {note}")


def _fetch_json(url: str, accept: str = "application/json") -> object:
    import httpx

    response = httpx.get(url, headers={"Accept": accept}, timeout=10, follow_redirects=False)
    response.raise_for_status()
    return response.json()


def _fetch_text(url: str) -> str:
    import httpx

    response = httpx.get(url, timeout=10, follow_redirects=False)
    response.raise_for_status()
    return response.text.strip()


@certificates_app.command("verify")
def certificates_verify(
    file: Annotated[Path, typer.Argument(help="A credential (VC-JWT) file", exists=True,
                                         dir_okay=False)],
    jwks: Annotated[Path | None, typer.Option(help="The issuer's JWKS file (offline); without "
                                                   "it, fetched from the issuer")] = None,
    status_list: Annotated[list[Path] | None, typer.Option(
        help="A status list credential file (JSON or VC-JWT); repeatable")] = None,
) -> None:
    """Verify a signed credential; exit 0 when valid, 1 when not."""
    import json

    import jwt

    from app.certificates import credentials

    token = file.read_text(encoding="utf-8").strip()
    lists: list[str | dict[str, object]] | None = None
    if status_list:
        lists = []
        for path in status_list:
            text = path.read_text(encoding="utf-8").strip()
            lists.append(json.loads(text) if text.startswith("{") else text)
    if jwks is not None:
        keys = json.loads(jwks.read_text(encoding="utf-8"))
    else:
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
            issuer = claims["issuer"]["id"] if isinstance(claims.get("issuer"), dict) \
                else str(claims.get("iss") or claims.get("issuer"))
            keys = _fetch_json(issuer.rstrip("/") + "/.well-known/jwks.json")
            if lists is None:
                entries = claims.get("credentialStatus") or []
                lists = [_fetch_text(str(entry["statusListCredential"]))
                         for entry in (entries if isinstance(entries, list) else [entries])]
        except Exception as exc:  # noqa: BLE001 - any failure to fetch is reported, not raised
            typer.echo(f"error: could not fetch the issuer's keys: {exc}", err=True)
            raise typer.Exit(2) from None
    verdict = credentials.verify_credential(token, keys, lists)
    payload = verdict.payload or {}
    typer.echo(f"credential: {payload.get('id', '?')}")
    typer.echo(f"name: {payload.get('name', '?')}")
    signature = f"ok (kid {verdict.kid})" if verdict.signature_ok else "FAILED"
    typer.echo(f"signature: {signature}")
    typer.echo(f"valid: {payload.get('validFrom', '?')} .. {payload.get('validUntil', '?')}")
    for purpose in credentials.PURPOSES:
        flag = verdict.status.get(purpose)
        typer.echo(f"{purpose}: {'not checked' if flag is None else ('SET' if flag else 'clear')}")
    for reason in verdict.reasons:
        typer.echo(f"- {reason}: {credentials.describe(reason)}")
    typer.echo("VALID" if verdict.valid else "INVALID")
    if not verdict.valid:
        raise typer.Exit(1)


@app.command("serve")
def serve(host: Annotated[str, typer.Option()] = "127.0.0.1",
          port: Annotated[int, typer.Option()] = 8000,
          workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
          reload: Annotated[bool, typer.Option(help="Reload on code changes")] = False) -> None:
    """Run the web server."""
    import uvicorn

    typer.echo(f"Pithead on http://{host}:{port}")
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers,
                reload=reload, proxy_headers=True, log_level="info")


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def main() -> None:
    """Entry point of the console script."""
    app()
