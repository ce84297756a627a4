"""Import course packages from disk: each package in its own transaction, all or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from app.courses import service
from app.courses.package import PackageError, find_packages, load_package
from app.db import open_session


def import_path(path: Path) -> Iterator[tuple[str, bool]]:
    """Import every package at `path`; yields a report line and whether it succeeded."""
    packages = find_packages(path)
    if not packages:
        yield f"{path}: no course package here (a package folder holds course.yaml)", False
        return
    for folder in packages:
        try:
            package = load_package(folder)
            with open_session(write=True) as db:
                outcome = service.import_package(db=db, package=package, by=None)
                db.commit()
        except PackageError as exc:
            yield f"{folder.name}: refused, nothing imported\n" + "\n".join(
                f"  {problem}" for problem in exc.problems), False
            continue
        except OSError as exc:  # a file that vanished or may not be read: still a clear line
            yield (f"{folder.name}: refused, nothing imported\n"
                   f"  {exc.filename or folder.name}: cannot be read: {exc.strerror}"), False
            continue
        words = {"created": "created", "new_version": "published as a new version",
                 "unchanged": "unchanged"}
        yield (f"{folder.name}: {outcome.code} version {outcome.version} "
               f"{words[outcome.action]} (course id {outcome.course_id})"), True
