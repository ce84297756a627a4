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
