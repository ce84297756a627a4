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
    assert [o.weight for o in tf.options] == [100.0, 0.0] and tf.feedback == "Right: 0.554."
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
    ("[html]<b>Q</b> {T}", "text format [html] is not supported"),
    ("Q {=a ~b", "not closed"),
])
def test_unsupported_or_broken_questions_name_their_line(text, message):
    with pytest.raises(GiftError) as info:
        parse("// first line\n\n" + text)
    assert info.value.line == 3 and message in info.value.message
    assert str(info.value).startswith("bank.gift:3: ")


plain_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1,
                     max_size=40).filter(lambda s: s.strip() and s == " ".join(s.split()))


@settings(max_examples=150, deadline=None)
@given(stem=plain_text, right=plain_text, wrong=st.lists(plain_text, min_size=1, max_size=4))
def test_export_then_parse_round_trips(stem, right, wrong):
    question = GiftQuestion(category="c", title="Q-1", text=stem, kind="single",
                            options=[GiftOption(right, 100.0)] + [GiftOption(w, 0.0)
                                                                  for w in wrong], line=1)
    back = parse("$CATEGORY: c\n\n" + to_gift(question))[0]
    assert (back.title, back.text, back.kind) == ("Q-1", stem, "single")
    assert [(o.text, o.weight) for o in back.options] == [(o.text, o.weight)
                                                          for o in question.options]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_crashes_the_parser(text):
    try:
        parse(text)
    except GiftError:
        pass
