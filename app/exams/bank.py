"""The question bank: questions of a course code, imported from GIFT (packages, uploads) or
spreadsheets, edited by trainers, exported back to GIFT."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.courses.gift import GiftOption, GiftQuestion, to_gift
from app.courses.package import QuestionData
from app.errors import NotFound
from app.exams.models import Question, QuestionStatus
from app.i18n import gettext as _


def external_id_of(question: GiftQuestion) -> str:
    """A question's stable id in its bank: its GIFT title, else a digest of its content."""
    if question.title:
        return question.title[:64]
    digest = hashlib.sha1(f"{question.category}\0{question.text}".encode(),
                          usedforsecurity=False).hexdigest()[:16]
    return f"auto-{digest}"


@dataclass
class BankImport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def upsert_questions(*, db: Session, bank: str, questions: Sequence[QuestionData],
                     job_category: str | None = None) -> BankImport:
    """Insert new questions and update changed ones, matched by their id in the bank."""
    result = BankImport()
    existing = {q.external_id: q for q in db.scalars(select(Question).where(Question.bank == bank))}
    for item in questions:
        source = item.source
        key = external_id_of(source)
        options = [{"text": texts, "weight": option.weight}
                   for texts, option in zip(item.options, source.options, strict=True)]
        fields = {"category": source.category, "kind": source.kind, "text": item.texts,
                  "options": options, "feedback": {"en": source.feedback} if source.feedback
                  else {}}
        question = existing.get(key)
        if question is None:
            db.add(Question(bank=bank, external_id=key, job_category=job_category, **fields))
            result.created += 1
        elif any(getattr(question, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(question, name, value)
            question.status = QuestionStatus.ACTIVE.value
            result.updated += 1
        else:
            result.unchanged += 1
    db.flush()
    return result


def available_counts(*, db: Session, bank: str) -> dict[str, int]:
    """Active questions per category of a bank."""
    rows = db.execute(select(Question.category, func.count()).where(
        Question.bank == bank, Question.status == QuestionStatus.ACTIVE.value)
        .group_by(Question.category))
    return {category: int(count) for category, count in rows}


def get_question_or_404(*, db: Session, question_id: int) -> Question:
    """A question or NotFound."""
    question = db.get(Question, question_id)
    if question is None:
        raise NotFound(_("No such question."))
    return question


def list_questions(*, db: Session, bank: str = "", category: str = "", status: str = "",
                   query: str = "", page: int = 1,
                   page_size: int = 25) -> tuple[list[Question], int]:
    """Questions filtered by bank, category, status and text."""
    stmt = select(Question)
    if bank:
        stmt = stmt.where(Question.bank == bank)
    if category:
        stmt = stmt.where(Question.category == category)
    if status:
        stmt = stmt.where(Question.status == status)
    if query.strip():
        like = f"%{query.strip()}%"
        stmt = stmt.where(or_(Question.external_id.ilike(like),
                              func.cast(Question.text, Question.bank.type).ilike(like)))
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = db.scalars(stmt.order_by(Question.bank, Question.category, Question.external_id)
                       .limit(page_size).offset((page - 1) * page_size)).all()
    return list(items), total


def as_gift(question: Question, locale: str = "en") -> GiftQuestion:
    """A bank question as a GIFT question in one language (for export)."""
    return GiftQuestion(
        category=question.category, title=question.external_id,
        text=question.text.get(locale) or question.text["en"], kind=question.kind,  # type: ignore[arg-type]
        options=[GiftOption((o["text"].get(locale) or o["text"]["en"]), float(o["weight"]))
                 for o in question.options], line=0)


def export_gift(questions: Sequence[Question], locale: str = "en") -> str:
    """GIFT text of `questions`, grouped by category (importable again, round trip)."""
    lines: list[str] = []
    category = None
    for question in sorted(questions, key=lambda q: (q.category, q.external_id)):
        if question.category != category:
            category = question.category
            lines.append(f"$CATEGORY: {category}\n")
        lines.append(to_gift(as_gift(question, locale)) + "\n")
    return "\n".join(lines)
