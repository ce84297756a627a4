import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.courses.gift import GiftError, GiftOption, GiftQuestion, parse_gift, to_gift


def parse(text: str) -> list[GiftQuestion]:
    return parse_gift(text, filename="bank.gift")


def test_the_supported_subset():
    questions = parse("""// a comment
$CATEGORY: $course$/top/gas

::G1::[markdown]Methane is \\{lighter\\} than air\\: true? {TRUE#Wrong.#Right: 0.554.}

::G2:: Which gas collects at the roof?
{ =Methane#Yes ~Carbon dioxide ~Hydrogen sulphide }

::G3::Choose the PPE {~%50%Helmet ~%50%Self-rescuer ~%-100%Lighter}
""")
    assert [q.category for q in questions] == ["gas", "gas", "gas"]
    tf, single, multiple = questions
    assert (tf.title, tf.kind) == ("G1", "true_false")
    assert tf.text == "Methane is {lighter} than air: true?"
    assert [o.weight for o in tf.options] == [100.0, 0.0] and tf.feedback == ""
    # {TRUE#wrong#right}: who chose False (wrong) reads "Wrong.", who chose True "Right: ..."
    assert [o.feedback for o in tf.options] == ["Right: 0.554.", "Wrong."]
    assert single.kind == "single" and single.correct == [0] and single.options[0].feedback == "Yes"
    assert single.line == 6
    assert multiple.kind == "multiple" and multiple.correct == [0, 1]


@pytest.mark.parametrize(("text", "message"), [
    ("Q {}", "essay questions"),
    ("Q {#3:1}", "numerical questions are not supported"),
    ("Q {=a -> b =c -> d}", "matching questions are not supported"),
    ("Q {=four =4}", "short-answer questions"),
    ("The {=cat ~dog} sat on the mat", "missing-word questions"),
    ("Just a description", "description items"),
    ("Q {~%50%a ~%20%b ~c}", "add up to 70%"),
    ("Q {=a ~%50%b ~c}", "cannot give partial credit"),
    ("Q {~%150%a ~%-50%b}", "not between -100% and 100%"),
    ("Q } {T}", "has no '{' before it"),
    ("Q {=a ~b", "not closed"),
])
def test_unsupported_or_broken_questions_name_their_line(text, message):
    with pytest.raises(GiftError) as info:
        parse("// first line\n\n" + text)
    assert info.value.line == 3 and message in info.value.message
    assert str(info.value).startswith("bank.gift:3: ")


plain_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"),
                                            blacklist_characters="\ufeff" + "".join(
                                                map(chr, range(0xFDD0, 0xFDF0)))),
                     min_size=1, max_size=40).filter(
                         lambda s: s.strip() and s == " ".join(s.split()))
# [id:] and [tag:] values: anything on one line but a backslash (only \] is an escape there).
marks = plain_text.filter(lambda s: "\\" not in s)
# A stem may span lines and keep its indentation (but not blank edges or trailing spaces).
stem_text = st.lists(st.tuples(st.sampled_from(["", "  ", "    "]), plain_text), min_size=1,
                     max_size=3).map(lambda lines: "\n".join(i + t for i, t in lines).strip())


@settings(max_examples=150, deadline=None)
@given(stem=stem_text, right=plain_text, wrong=st.lists(plain_text, min_size=1, max_size=4),
       feedback=st.lists(st.one_of(st.just(""), plain_text), min_size=5, max_size=5),
       general=st.one_of(st.just(""), plain_text), tags=st.lists(marks, max_size=3),
       idnumber=st.one_of(st.just(""), marks))
def test_export_then_parse_round_trips(stem, right, wrong, feedback, general, tags, idnumber):
    question = GiftQuestion(category="c", title="Q-1", text=stem, kind="single",
                            options=[GiftOption(right, 100.0, feedback[0])] +
                            [GiftOption(w, 0.0, feedback[i + 1]) for i, w in enumerate(wrong)],
                            line=1, feedback=general, tags=tags, idnumber=idnumber)
    back = parse("$CATEGORY: c\n\n" + to_gift(question))[0]
    assert (back.title, back.text, back.kind, back.feedback) == ("Q-1", stem, "single", general)
    assert (back.tags, back.idnumber) == (tags, idnumber)
    assert [(o.text, o.weight, o.feedback) for o in back.options] == [
        (o.text, o.weight, o.feedback) for o in question.options]


@settings(max_examples=100, deadline=None)
@given(stem=stem_text, truth=st.booleans(), feedbacks=st.tuples(
    st.one_of(st.just(""), plain_text), st.one_of(st.just(""), plain_text)),
    weights=st.sampled_from([[100.0, -100.0], [50.0, 50.0, -100.0], [33.33333, 33.33333,
                                                                        33.33334, 0.0]]))
def test_true_false_and_multiple_round_trip(stem, truth, feedbacks, weights):
    tf = GiftQuestion(category="c", title="T", text=stem, kind="true_false", options=[
        GiftOption("True", 100.0 if truth else 0.0, feedbacks[0]),
        GiftOption("False", 0.0 if truth else 100.0, feedbacks[1])], line=1)
    multiple = GiftQuestion(category="c", title="M", text=stem, kind="multiple", options=[
        GiftOption(f"option {i}", w, feedbacks[i % 2]) for i, w in enumerate(weights)], line=1)
    for question in (tf, multiple):
        back = parse("$CATEGORY: c\n\n" + to_gift(question))[0]
        assert (back.kind, back.text) == (question.kind, stem)
        assert [(o.text, o.weight, o.feedback) for o in back.options] == [
            (o.text, o.weight, o.feedback) for o in question.options]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_crashes_the_parser(text):
    try:
        parse(text)
    except GiftError:
        pass
