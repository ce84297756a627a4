"""`?page=&page_size=` for every list, and the `{"items", "total"}` shape of API lists."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

T = TypeVar("T")
MAX_PAGE_SIZE = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int


@dataclass(frozen=True)
class PageParams:
    page: int
    page_size: int

    def pages(self, total: int) -> int:
        """How many pages `total` items fill (at least 1)."""
        return max(1, math.ceil(total / self.page_size))


def page_params(page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 25) -> PageParams:
    """Validated paging parameters."""
    return PageParams(page=page, page_size=page_size)


PageDep = Annotated[PageParams, Depends(page_params)]


LIKE_ESCAPE = "!"


def like_pattern(text: str, *, prefix: bool = False) -> str:
    """A LIKE pattern that matches `text` literally (`%`, `_` and `!` are no wildcards), anywhere
    in the value, or only at its start with `prefix`. Pass `escape=LIKE_ESCAPE` to like/ilike."""
    escaped = text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return escaped + "%" if prefix else "%" + escaped + "%"
