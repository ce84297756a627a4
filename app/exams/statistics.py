"""Item statistics for trainers: per question, over submitted attempts, how many took it, its
facility (the share who answered it right) and its discrimination.

Discrimination is the point-biserial correlation between the item score (1 right, 0 wrong or
unanswered) and the taker's score on the rest of the paper (the share of the attempt's *other*
questions answered right; excluding the item keeps it from correlating with itself, and using a
share keeps papers of different lengths comparable). It is the Pearson correlation of the two,
from -1 to 1; it is undefined (None) when every taker got the item right, or every taker got it
wrong, or all takers did equally well on the rest.

Flags: facility below 0.3 ("hard": most takers get it wrong - check the key and the wording),
discrimination below 0.1 ("low_discrimination": it does not separate those who know the
material from those who do not; negative means the weaker takers do better on it).

Cost: a fixed number of queries (the exams, the attempts' papers, their answers, the
questions), whatever the number of attempts; the arithmetic is done in Python.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.exams.models import Answer, Attempt, AttemptStatus, Exam, Question
from app.i18n import N_

HARD_BELOW = 0.3
LOW_DISCRIMINATION_BELOW = 0.1
FLAG_LABELS = {"hard": N_("Most get it wrong"), "low_discrimination": N_("Does not separate")}


@dataclass
class ItemStats:
    question_id: int
    external_id: str
    category: str
    kind: str
    text: dict[str, str]
    status: str
    takers: int
    right: int
    facility: float | None
    discrimination: float | None
    flags: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"question_id": self.question_id, "external_id": self.external_id,
                "category": self.category, "kind": self.kind, "text": self.text,
                "status": self.status, "takers": self.takers, "right": self.right,
                "facility": self.facility, "discrimination": self.discrimination,
                "flags": list(self.flags)}


@dataclass
class Statistics:
    attempts: int
    mean_score: float | None
    items: list[ItemStats]


def point_biserial(item: list[int], rest: list[float]) -> float | None:
    """Pearson correlation of a 0/1 item score with the rest score; None when undefined."""
    n = len(item)
    if n < 2:
        return None
    mean_x = sum(item) / n
    mean_y = sum(rest) / n
    var_x = sum((x - mean_x) ** 2 for x in item)
    var_y = sum((y - mean_y) ** 2 for y in rest)
    if var_x <= 0 or var_y <= 1e-12:
        return None
    cov = sum((x - mean_x) * (y - mean_y) for x, y in zip(item, rest, strict=True))
    return cov / math.sqrt(var_x * var_y)


def _flags(facility: float | None, discrimination: float | None) -> list[str]:
    flags = []
    if facility is not None and facility < HARD_BELOW:
        flags.append("hard")
    if discrimination is not None and discrimination < LOW_DISCRIMINATION_BELOW:
        flags.append("low_discrimination")
    return flags


def compute(papers: dict[int, list[dict[str, Any]]], answers: dict[int, dict[int, list[int]]],
            scores: dict[int, float | None]) -> tuple[dict[int, tuple[list[int], list[float]]],
                                                      float | None]:
    """Per question: the item scores and rest scores of the attempts that drew it."""
    per_item: dict[int, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
    for attempt_id, paper in papers.items():
        given = answers.get(attempt_id, {})
        marks = {}
        for item in paper:
            key = {option["id"] for option in item["options"] if option["right"]}
            marks[item["question_id"]] = 1 if set(given.get(item["question_id"], [])) == key \
                else 0
        total = sum(marks.values())
        others = len(marks) - 1
        for question_id, mark in marks.items():
            xs, ys = per_item[question_id]
            xs.append(mark)
            ys.append((total - mark) / others if others > 0 else 0.0)
    known = [s for s in scores.values() if s is not None]
    return dict(per_item), (sum(known) / len(known) if known else None)


def statistics(*, db: Session, bank: str | None = None, exam_id: int | None = None) -> Statistics:
    """Item statistics of a bank (every exam drawing from it) or of one exam, sorted by
    facility (hardest first)."""
    if exam_id is not None:
        exam_ids = [exam_id]
    else:
        exam_ids = list(db.scalars(select(Exam.id).where(Exam.bank == bank)))
    if not exam_ids:
        return Statistics(attempts=0, mean_score=None, items=[])
    submitted = (Attempt.exam_id.in_(exam_ids),
                 Attempt.status == AttemptStatus.SUBMITTED.value)
    papers: dict[int, list[dict[str, Any]]] = {}
    scores: dict[int, float | None] = {}
    for attempt_id, paper, score in db.execute(
            select(Attempt.id, Attempt.paper, Attempt.score).where(*submitted)):
        papers[attempt_id] = paper
        scores[attempt_id] = score
    answers: dict[int, dict[int, list[int]]] = defaultdict(dict)
    for attempt_id, question_id, option_ids in db.execute(
            select(Answer.attempt_id, Answer.question_id, Answer.option_ids)
            .join(Attempt, Attempt.id == Answer.attempt_id).where(*submitted)):
        answers[attempt_id][question_id] = option_ids
    per_item, mean_score = compute(papers, answers, scores)
    questions = {q.id: q for q in db.scalars(select(Question).where(
        Question.id.in_(list(per_item))))} if per_item else {}
    first_seen: dict[int, dict[str, Any]] = {}
    for paper in papers.values():
        for item in paper:
            first_seen.setdefault(item["question_id"], item)
    items = []
    for question_id, (xs, ys) in per_item.items():
        question = questions.get(question_id)
        copy = first_seen[question_id]
        takers, right = len(xs), sum(xs)
        facility = right / takers if takers else None
        discrimination = point_biserial(xs, ys)
        items.append(ItemStats(
            question_id=question_id,
            external_id=question.external_id if question else "",
            category=question.category if question else copy.get("category", ""),
            kind=question.kind if question else copy.get("kind", ""),
            text=dict(question.text) if question else dict(copy.get("text") or {}),
            status=question.status if question else "",
            takers=takers, right=right, facility=facility, discrimination=discrimination,
            flags=_flags(facility, discrimination)))
    items.sort(key=lambda s: (s.facility if s.facility is not None else 2.0, s.external_id,
                              s.question_id))
    return Statistics(attempts=len(papers), mean_score=mean_score, items=items)
