"""Moodle's GIFT import/export cases (question/format/gift/tests/giftformat_test.php), said again
for Pithead: the kinds it grades (single choice, multiple choice/response, true/false) parse as
Moodle reads them; the kinds it does not grade are refused with the question's line."""

import pytest

from app.courses.gift import (
    MAX_QUESTIONS,
    GiftError,
    GiftOption,
    GiftQuestion,
    category_path,
    parse_gift,
    to_gift,
)


def parse(text: str) -> list[GiftQuestion]:
    return parse_gift(text, filename="moodle.gift")


def one(text: str) -> GiftQuestion:
    (question,) = parse("$CATEGORY: c\n\n" + text)
    return question


# --- multiple choice ------------------------------------------------------------------------

def test_single_choice_markers_on_options_and_feedback_are_formats_not_text():
    question = one("""// single choice with feedback on every answer
::Q2:: What's between orange and green in the spectrum?
{
    =yellow # right; good!
    ~red # [html]wrong, it's <b>yellow</b>
    ~[plain]blue # wrong, it's yellow
}""")
    assert (question.title, question.kind) == ("Q2", "single")
    assert question.text == "What's between orange and green in the spectrum?"
    assert [(o.text, o.weight, o.feedback) for o in question.options] == [
        ("yellow", 100.0, "right; good!"),
        ("red", 0.0, "wrong, it's yellow"),
        ("blue", 0.0, "wrong, it's yellow")]


def test_multiple_response_with_weights_and_formats():
    question = one("""::colours:: What's between orange and green in the spectrum?
{
    ~%50%yellow # right; good!
    ~%-100%red # [html]wrong
    ~%50%off-beige # right; good!
    ~%-100%[plain]blue # wrong
}""")
    assert question.kind == "multiple" and question.correct == [0, 2]
    assert [(o.text, o.weight, o.feedback) for o in question.options] == [
        ("yellow", 50.0, "right; good!"), ("red", -100.0, "wrong"),
        ("off-beige", 50.0, "right; good!"), ("blue", -100.0, "wrong")]


def test_multiple_response_with_one_positive_weight_stays_multiple_response():
    # Moodle: no '=' answer means check boxes, even when one option carries all the credit.
    question = one("""::colours:: What's between orange and green in the spectrum?
{
    ~%100%yellow # right; good!
    ~%-50%red # wrong
    ~%-50%blue # wrong
}""")
    assert question.kind == "multiple" and question.correct == [0]
    assert [o.weight for o in question.options] == [100.0, -50.0, -50.0]
    assert [o.feedback for o in question.options] == ["right; good!", "wrong", "wrong"]


def test_exported_choice_questions_read_back_as_moodle_writes_them():
    single = GiftQuestion(category="c", title="Q8", kind="single", line=0,
                          text="What's between orange and green in the spectrum?",
                          options=[GiftOption("yellow", 100.0, "right; good!"),
                                   GiftOption("red", 0.0, "wrong, it's yellow"),
                                   GiftOption("blue", 0.0, "wrong, it's yellow")])
    tricky = GiftQuestion(category="c", title="Q9", kind="multiple", line=0,
                          text=single.text,
                          options=[GiftOption("yellow", 100.0, "right; good!"),
                                   GiftOption("red", -50.0, "wrong, it's yellow"),
                                   GiftOption("blue", -50.0, "wrong, it's yellow")])
    assert "=yellow#right; good!" in to_gift(single) and "~red#wrong, it's yellow" in \
        to_gift(single)
    assert "~%100%yellow#right; good!" in to_gift(tricky)
    assert "~%-50%red#wrong, it's yellow" in to_gift(tricky)
    for question in (single, tricky):
        back = one(to_gift(question))
        assert (back.kind, back.text) == (question.kind, question.text)
        assert [(o.text, o.weight, o.feedback) for o in back.options] == [
            (o.text, o.weight, o.feedback) for o in question.options]


# --- true/false -----------------------------------------------------------------------------

def test_true_false_feedback_belongs_to_the_answer_chosen():
    question = one("""// true/false
::Q1:: 42 is the Absolute Answer to everything.{
FALSE#42 is the Ultimate Answer.#You gave the right answer.}""")
    assert (question.title, question.kind, question.correct) == ("Q1", "true_false", [1])
    assert question.text == "42 is the Absolute Answer to everything."
    # The key is FALSE: choosing True (wrong) shows the first text, False (right) the second.
    assert [(o.text, o.feedback) for o in question.options] == [
        ("True", "42 is the Ultimate Answer."), ("False", "You gave the right answer.")]
    assert question.feedback == ""


@pytest.mark.parametrize("answer", ["T", "TRUE"])
def test_true_in_short_and_long_form(answer):
    question = one(f"// name 0-11\n::2-08 TSL::TSL is blablabla.{{{answer}}}")
    assert (question.title, question.text, question.correct) == ("2-08 TSL",
                                                                 "TSL is blablabla.", [0])
    assert [o.feedback for o in question.options] == ["", ""]


def test_true_false_export_writes_wrong_then_right_feedback_and_the_general_one():
    question = GiftQuestion(category="c", title="Q1", kind="true_false", line=0,
                            text="42 is the Absolute Answer to everything.",
                            options=[GiftOption("True", 100.0, "You gave the right answer."),
                                     GiftOption("False", 0.0, "42 is the Ultimate Answer.")],
                            feedback="You should have selected true.")
    gift = to_gift(question)
    assert gift.endswith("{TRUE#42 is the Ultimate Answer.#You gave the right answer."
                         "####You should have selected true.}")
    back = one(gift)
    assert [(o.weight, o.feedback) for o in back.options] == [
        (100.0, "You gave the right answer."), (0.0, "42 is the Ultimate Answer.")]
    assert back.feedback == "You should have selected true."


def test_true_false_with_only_right_feedback_round_trips():
    question = GiftQuestion(category="c", title="Q", kind="true_false", line=0, text="Q?",
                            options=[GiftOption("True", 0.0, ""),
                                     GiftOption("False", 100.0, "Yes.")])
    assert "{FALSE##Yes.}" in to_gift(question)
    assert [o.feedback for o in one(to_gift(question)).options] == ["", "Yes."]


# --- text: formats, line breaks, escapes, titles -------------------------------------------

def test_html_question_text_is_sanitized_into_text_keeping_lines_and_indentation():
    question = one("""::Q001::[html]<p>What would running the test method print?</p>
<pre>
    public void test() \\{
        method1();
        method2();
    \\}
</pre><script>alert(1)</script>
{T}""")
    assert question.text_format == "html"
    assert question.text == ("What would running the test method print?\n"
                             "    public void test() {\n"
                             "        method1();\n"
                             "        method2();\n"
                             "    }")


def test_html_options_follow_the_question_format_and_entities_are_decoded():
    question = one("::H::[html]Pick <b>the</b> gas &amp; more{=<i>CH<sub>4</sub></i> "
                   "~CO<sub>2</sub> # <img src\\=x onerror\\=alert(1)>not this}")
    assert question.text == "Pick the gas & more"
    assert [(o.text, o.feedback) for o in question.options] == [("CH4", ""),
                                                                ("CO2", "not this")]


def test_plain_question_text_keeps_its_line_breaks_and_indentation():
    question = one("::Q::First line\n    indented line\\nescaped break\n{T}")
    assert question.text == "First line\n    indented line\nescaped break"
    assert one(to_gift(question)).text == question.text


def test_backslashes_survive_import_and_export():
    question = one("::double backslash:: A \\\\ B \\\\\\\\ C{T}")
    assert question.text == "A \\ B \\\\ C"
    assert "A \\\\ B \\\\\\\\ C" in to_gift(question)
    assert one(to_gift(question)).text == question.text


@pytest.mark.parametrize(("gift", "title", "text"), [
    ("::Title ending in a colon\\:::Is this parsed? {T}", "Title ending in a colon:",
     "Is this parsed?"),
    ("::a\\:b\\::: c {T}", "a:b:", "c"),
    ("::\\::::x {T}", ":", ":x"),
])
def test_titles_with_escaped_colons(gift, title, text):
    question = one(gift)
    assert (question.title, question.text) == (title, text)


def test_a_text_that_starts_like_a_format_marker_round_trips():
    question = GiftQuestion(category="c", title="F", kind="true_false", line=0,
                            text="[html] is a format name",
                            options=[GiftOption("True", 100.0), GiftOption("False", 0.0)])
    assert one(to_gift(question)).text == "[html] is a format name"


# --- categories, ids and tags ---------------------------------------------------------------

@pytest.mark.parametrize(("raw", "path"), [
    ("$course$/top/Default for GAS/gas/detection", "Default for GAS/gas/detection"),
    ("$system$/top/a", "a"),
    ("a/b/c", "a/b/c"),
    (" a / b ", "a/b"),
    ("top/x", "x"),
    ("roof//sides/bolting", "roof//sides/bolting"),
    ("gas", "gas"),
])
def test_category_keeps_the_whole_path(raw, path):
    assert category_path(raw) == path


def test_category_lines_apply_to_the_questions_below():
    questions = parse("$CATEGORY: $course$/top/a/b/c\n\n::1::x{T}\n\n"
                      "$CATEGORY: d\n::2::y{F}\n")
    assert [(q.title, q.category) for q in questions] == [("1", "a/b/c"), ("2", "d")]


@pytest.mark.parametrize(("comment", "idnumber", "tags"), [
    ("", "", []),
    ("// A basic comment.", "", []),
    ("// A comment with [id:frog] <-- an idnumber.", "frog", []),
    ("// Look tags: [tag:frog] [tag:toad].", "", ["frog", "toad"]),
    ("// [tag:add] [tag:basic] [id:four]", "four", ["add", "basic"]),
    ("// [tag:  basic] Here is  \n// a [id:   four   ] que[tag:add   ]stion.", "four",
     ["basic", "add"]),
    ("// Ceci n'est pas une [tag:\n// frog].", "", []),
    ("// [id:i\\]d].", "i]d", []),
    ("// [tag:t\\]ag].", "", ["t]ag"]),
])
def test_ids_and_tags_come_from_the_comments_above_the_question(comment, idnumber, tags):
    question = one(comment + "\n::Question name:: How are you? {T}")
    assert (question.idnumber, question.tags) == (idnumber, tags)
    assert question.key == (idnumber or "Question name")


def test_moodle_export_with_id_and_tags_reads_back():
    question = one("// question: 1  name: True/false question\n// [id:myid] [tag:tag1] "
                   "[tag:tag2]\n::True/false question::[html]The answer is true.{TRUE#This is "
                   "the wrong answer.#This is the right answer.####You should have selected "
                   "true.}")
    assert (question.idnumber, question.tags, question.comment_line) == ("myid",
                                                                         ["tag1", "tag2"], 4)
    assert question.text == "The answer is true."
    assert question.feedback == "You should have selected true."
    assert [o.feedback for o in question.options] == ["This is the right answer.",
                                                      "This is the wrong answer."]
    again = one(to_gift(question))
    assert (again.idnumber, again.tags, again.feedback) == ("myid", ["tag1", "tag2"],
                                                            question.feedback)


def test_general_feedback_with_a_format_marker():
    question = one("::G::Q? {=a ~b ####[html]Here is <b>some</b> general feedback!}")
    assert question.feedback == "Here is some general feedback!"


# --- kinds Pithead does not grade: refused with the question's line -------------------------

@pytest.mark.parametrize(("gift", "message"), [
    ("// essay\n::Q8:: How are you? {}", "essay questions"),
    ("::Moodle activities::[html]Match the <b>activity</b> to the description.{\n"
     "    =[html]An activity supporting asynchronous discussions. -> Forum\n"
     "    =[moodle]A teacher asks a question. -> Choice\n"
     "    = -> Chat\n}", "matching questions are not supported"),
    ("// math range question\n::Q5:: What is a number from 1 to 5? {#3:2~#Completely wrong}",
     "numerical questions are not supported"),
    ("::Shortanswer::Which is the best animal?{\n    =Frog#Good!\n"
     "    =%50%Cat#What is it with Moodlers and cats?\n    =%0%*#Completely wrong\n"
     "    ####[html]Here is some general feedback!\n}", "short-answer questions"),
    ("::Q001::[html]<p>What would running the test method print?</p>{}", "essay questions"),
    ("::D::Just some text to read", "description items"),
    ("::M::Grant is {~buried =entombed ~living} in Grant's tomb.", "missing-word questions"),
])
def test_kinds_pithead_does_not_grade_are_refused_with_their_line(gift, message):
    with pytest.raises(GiftError) as info:
        parse("$CATEGORY: c\n\n// filler\n\n" + gift)
    line = 5 + gift[:gift.index("::")].count("\n")  # the question's line, after comments
    assert info.value.line == line
    assert message in info.value.message
    assert str(info.value).startswith(f"moodle.gift:{line}: ")


# --- limits ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("char", "name"), [("\0", "NUL"), ("\x07", "U+0007"),
                                            ("\x1b", "U+001B"), ("\x85", "U+0085")])
def test_control_characters_are_refused_with_line_and_column(char, name):
    with pytest.raises(GiftError) as info:
        parse(f"$CATEGORY: c\n\n::A::Air{char} is a gas. {{T}}\n")
    assert info.value.line == 3 and "column 9" in info.value.message
    assert name in info.value.message


def test_tabs_and_windows_line_breaks_are_fine():
    (question,) = parse("$CATEGORY: c\r\n\r\n::A::Air\tis a gas.\r\nReally. {T}\r\n")
    assert (question.line, question.text) == (3, "Air\tis a gas.\nReally.")


def test_question_count_is_limited_and_named():
    text = "$CATEGORY: c\n\n" + "".join(f"::Q{i}::Air is a gas. {{T}}\n\n"
                                        for i in range(MAX_QUESTIONS + 1))
    with pytest.raises(GiftError) as info:
        parse(text)
    assert "more than 5,000 questions" in info.value.message
    assert info.value.line == 3 + 2 * MAX_QUESTIONS
    assert len(parse(text.rsplit("::Q", 1)[0])) == MAX_QUESTIONS


def test_file_size_is_limited():
    with pytest.raises(GiftError) as info:
        parse("// " + "x" * (5 * 1024 * 1024))
    assert info.value.line == 1 and "larger than 5 MB" in info.value.message
