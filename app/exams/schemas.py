"""Pydantic shapes of the exams API. Nothing here carries the key before submit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.bounds import DbInt
from app.exams.models import Attempt
from app.i18n import gettext as _
from app.i18n import localized


class OptionOut(BaseModel):
    id: int
    text: str


class QuestionOut(BaseModel):
    id: int
    kind: str
    text: str
    options: list[OptionOut]
    image_url: str | None = None


class AttemptStarted(BaseModel):
    id: int
    exam_id: int
    number: int
    deadline: datetime
    questions: list[QuestionOut]


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    option_ids: list[DbInt] = Field(max_length=20)


class AnswerSaved(BaseModel):
    saved_at: datetime


class SubmitOut(BaseModel):
    id: int
    status: str
    score: float | None
    max_score: int
    passed: bool | None


class AttemptOut(BaseModel):
    id: int
    exam_id: int
    number: int
    status: str
    score: float | None
    passed: bool | None
    deadline: datetime
    submitted_at: datetime | None
    answers: dict[int, list[int]]
    questions: list[QuestionOut] | None = None


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(pattern=r"^(hidden|visible|offline|online|blur|focus)$")


def option_text(item: dict[str, Any], option: dict[str, Any], locale: str) -> str:
    """An option's text; true/false options are the words True and False, translated."""
    if item["kind"] == "true_false":
        return _("True") if option["index"] == 0 else _("False")
    return localized(option["text"], locale)


def questions_out(attempt: Attempt, locale: str) -> list[QuestionOut]:
    """The paper as the taker sees it: stems and options in their shuffled order, no key."""
    from app import media

    return [QuestionOut(id=item["question_id"], kind=item["kind"],
                        text=localized(item["text"], locale),
                        options=[OptionOut(id=o["id"], text=option_text(item, o, locale))
                                 for o in item["options"]],
                        image_url=media.url(item["image_key"]) if item.get("image_key")
                        else None)
            for item in attempt.paper]
