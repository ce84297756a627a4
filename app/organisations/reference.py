"""Reference lists shipped with the product: regions, job categories, education levels.

They are read once from the YAML files in ./data and cached; every accessor returns fresh
copies, so a caller that edits a result cannot change what the next caller sees.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"


@lru_cache
def _load(name: str) -> tuple[dict[str, Any], ...]:
    """Read data/<name>.yaml, a list of mappings each with a string `code`."""
    with (DATA_DIR / f"{name}.yaml").open(encoding="utf-8") as handle:
        # libyaml's loader when PyYAML has it: the 3,200 regions load in 0.1 s instead of 0.7 s
        # (paid by the first request of each process that checks a region code).
        rows = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
    if not isinstance(rows, list):
        raise ValueError(f"{name}.yaml must hold a list")
    # An unquoted code such as 14 would load as an int; codes are always compared as text.
    return tuple({**row, "code": str(row["code"])} for row in rows)


def regions() -> list[dict[str, Any]]:
    """Every shipped GB/T 2260 division as {code, en, zh}, codes in their short form."""
    return [dict(row) for row in _load("regions")]


@lru_cache
def _regions_by_code() -> dict[str, dict[str, Any]]:
    """Index of the shipped regions by short code."""
    return {row["code"]: row for row in _load("regions")}


def region(code: str) -> dict[str, Any] | None:
    """The shipped entry for a short region code, or None when the list does not name it."""
    row = _regions_by_code().get(code)
    return dict(row) if row is not None else None


@lru_cache
def region_codes() -> frozenset[str]:
    """Every shipped short region code (about 3,200: provinces, prefectures and counties)."""
    return frozenset(_regions_by_code())


def is_region(code: str) -> bool:
    """True when `code` (short form) names a division of the shipped GB/T 2260 list."""
    return code in region_codes()


def find_regions(query: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """Regions whose short or full code starts with `query`, or whose name contains it.

    For pickers that cannot list all ~3,200 divisions at once; codes first, then names, each
    in code order, at most `limit`.
    """
    text = query.strip()
    if not text:
        return []
    if text.isdigit():
        short = text
        while len(short) in (4, 6) and short.endswith("00"):
            short = short[:-2]  # 140100 -> 1401: the prefecture and what lies within it
        hits = [row for row in _load("regions") if row["code"].startswith(short)]
    else:
        folded = text.casefold()
        hits = [row for row in _load("regions")
                if folded in row["zh"] or folded in row["en"].casefold()]
    return [dict(row) for row in hits[:limit]]


@lru_cache
def province_codes() -> frozenset[str]:
    """The 2-digit codes of the 34 provincial-level divisions."""
    return frozenset(row["code"] for row in _load("regions") if len(row["code"]) == 2)


def job_categories() -> list[dict[str, Any]]:
    """Every job category as {code, en, zh, special_operation}."""
    return [dict(row) for row in _load("job_categories")]


@lru_cache
def job_category_codes() -> frozenset[str]:
    """The job category codes (part of the public contract)."""
    return frozenset(row["code"] for row in _load("job_categories"))


@lru_cache
def special_operation_codes() -> frozenset[str]:
    """The job category codes that are special operations needing a certificate."""
    return frozenset(row["code"] for row in _load("job_categories") if row["special_operation"])


def education_levels() -> list[dict[str, Any]]:
    """Every education level as {code, en, zh}, from the lowest to the highest."""
    return [dict(row) for row in _load("education_levels")]


@lru_cache
def education_level_codes() -> frozenset[str]:
    """The education level codes."""
    return frozenset(row["code"] for row in _load("education_levels"))
