"""Every question type of COURSE_FORMAT.md: parsing with file:line errors and grading on the server."""

import textwrap
from decimal import Decimal
from types import SimpleNamespace

import pytest

from lms.core.frontmatter import SourceError
from lms.quizzes import grading
from lms.quizzes.markdown_format import parse_number, parse_quiz
from lms.quizzes.models import Question
from lms.quizzes.sync import apply_question
from tests.quizzes.conftest import ALL_TYPES

pytestmark = pytest.mark.usefixtures("app")


def parse_text(tmp_path, body, front="title: T"):
    path = tmp_path / "quiz.md"
    path.write_text(f"---\n{front}\n---\n\n" + textwrap.dedent(body), encoding="utf-8")
    return parse_quiz(path)


def question_from(tmp_path, body):
    source = parse_text(tmp_path, body).questions[0]
    question = Question(key=source.key)
    apply_question(question, source)
    return question


def test_every_type_of_the_contract_parses(tmp_path):
    path = tmp_path / "quiz.md"
    path.write_text(ALL_TYPES.replace("{extra}", "grading: last"), encoding="utf-8")
    quiz = parse_quiz(path)
    assert [q.type for q in quiz.questions] == ["description", "single", "multiple", "true-false", "short", "numeric",
                                                "matching", "ordering", "essay"]
    assert quiz.grading_method == "last" and quiz.pass_mark == 60
    multiple = quiz.questions[2]
    assert [o.fraction for o in multiple.options] == [0.5, -1.0, 0.5, -1.0]
    assert multiple.options[0].feedback == "đúng một nửa"
    assert quiz.questions[3].truth is True
    assert [a["text"] for a in quiz.questions[4].accepted] == ["dichvucong.gov.vn", "Cổng dịch vụ công", "*.dichvucong.gov.vn"]
    assert quiz.questions[5].accepted[1] == {"value": 29050.0, "tolerance": 50.0, "fraction": 1.0, "feedback": ""}
    assert quiz.questions[6].pairs == [("Cấp căn cước", "Công an"), ("Đăng ký khai sinh", "UBND cấp xã"), ("", "Toà án")]
    assert quiz.questions[7].items[0] == "Đăng nhập" and quiz.questions[8].points == 2
    assert quiz.questions[0].points == 0


@pytest.mark.parametrize("body, line, message", [
    ("## Q\ntype: essai\n", 6, "unknown question type `essai`"),
    ("## Q\ntype: single\n- [x] a\n- [x] b\n", 5, "exactly one correct option"),
    ("## Q\ntype: ordering\n1. only\n", 5, "at least two numbered items"),
    ("## Q\ntype: matching\n- a = b\n", 5, "at least two"),
    ("## Q\ntype: numeric\nanswer: about ten\n", 7, "is not a number"),
    ("## Q\ntype: true-false\nanswer: maybe\n", 7, "`true` or `false`"),
    ("## Q\ntype: short\n", 5, "needs an `answer:` line"),
    ("## Q\ntype: essay\n- [x] a\n", 7, "takes no options"),
    ("## Q\ntype: single\n- [x] a\n- [ ] b\n\nstray words\n", 10, "unexpected text"),
])
def test_mistakes_are_reported_with_file_and_line(tmp_path, body, line, message):
    with pytest.raises(SourceError) as error:
        parse_text(tmp_path, body)
    assert error.value.line == line and message in error.value.message
    assert str(error.value).startswith(f"{tmp_path / 'quiz.md'}:{line}: ")


def test_bad_settings_are_refused(tmp_path):
    with pytest.raises(SourceError, match="`grading` must be one of"):
        parse_text(tmp_path, "## Q\ntype: essay\n", front="title: T\ngrading: best")
    with pytest.raises(SourceError, match="`closes` must be after `opens`"):
        parse_text(tmp_path, "## Q\ntype: essay\n", front="title: T\nopens: 2026-12-02 08:00\ncloses: 2026-12-01 08:00")


def test_open_and_close_times_are_local_and_stored_in_utc(tmp_path):
    quiz = parse_text(tmp_path, "## Q\ntype: essay\n", front="title: T\nopens: 2026-12-01 08:00\ncloses: 2026-12-01 10:30")
    assert quiz.opens_at.isoformat() == "2026-12-01T01:00:00" and quiz.closes_at.isoformat() == "2026-12-01T03:30:00"


def f(question, response):
    value = grading.grade(question, grading.clean_response(question, response))
    return None if value is None else float(value)


def test_multiple_choice_weights_and_penalties_as_in_moodle(tmp_path):
    q = question_from(tmp_path, "## Q\ntype: multiple\n- [50%] y\n- [-100%] r\n- [50%] o\n- [-100%] b\n")
    assert f(q, ["a", "c"]) == 1.0
    assert f(q, ["a"]) == 0.5
    assert f(q, ["a", "b"]) == 0.0  # 0.5 - 1, floored at zero
    assert f(q, ["a", "c", "d"]) == 0.0
    assert f(q, ["a", "zz", "<x>"]) == 0.5
    assert q.answer == ["a", "c"]


def test_single_and_true_false(tmp_path):
    q = question_from(tmp_path, "## Q\ntype: true-false\nanswer: false\n")
    assert (f(q, ["false"]), f(q, ["true"]), f(q, ["maybe"]), f(q, ["true", "false"])) == (1.0, 0.0, 0.0, 0.0)
    single = question_from(tmp_path, "## Q\ntype: single\n- [ ] a\n- [x] b\n")
    assert (f(single, ["b"]), f(single, ["a", "b"])) == (1.0, 0.0)  # a radio posts one value; extra ones are dropped


@pytest.mark.parametrize("typed, expected", [
    ("dichvucong.gov.vn", 1.0), ("DichVuCong.GOV.vn", 1.0), ("  dichvucong.gov.vn ", 1.0),
    ("cong dich vu cong", 1.0), ("Cổng   Dịch Vụ Công", 1.0), ("abc.dichvucong.gov.vn", 1.0),
    ("dichvucong.gov", 0.0), ("", 0.0),
])
def test_short_answer_case_diacritics_and_wildcard(tmp_path, typed, expected):
    q = question_from(tmp_path, "## Q\ntype: short\ndiacritics: optional\n"
                                "answer: dichvucong.gov.vn | Cổng dịch vụ công | *.dichvucong.gov.vn\n")
    assert f(q, [typed]) == expected


def test_short_answer_can_require_case_and_diacritics(tmp_path):
    q = question_from(tmp_path, "## Q\ntype: short\ncase: sensitive\nanswer: Hà Nội\n")
    assert (f(q, ["Hà Nội"]), f(q, ["hà nội"]), f(q, ["Ha Noi"])) == (1.0, 0.0, 0.0)
    relaxed = question_from(tmp_path, "## Q\ntype: short\nanswer: Hà Nội\n")
    assert (f(relaxed, ["hà nội"]), f(relaxed, ["Ha Noi"])) == (1.0, 0.0)
    # `*` in the typed text is not a wildcard, only in the key
    assert f(relaxed, ["*"]) == 0.0


@pytest.mark.parametrize("typed, expected", [
    ("30000", 1.0), ("30 000", 1.0), ("30004,9", 1.0), ("29995", 1.0), ("30006", 0.0), ("29050", 1.0),
    ("29100", 1.0), ("29101", 0.0), ("ba mươi nghìn", 0.0), ("nan", 0.0), ("1e400", 0.0),
])
def test_numeric_tolerance_and_ranges(tmp_path, typed, expected):
    q = question_from(tmp_path, "## Q\ntype: numeric\nanswer: 30000 ± 5 | 29000..29100\n")
    assert f(q, [typed]) == expected


def test_parse_number_reads_local_notations():
    assert parse_number("1.234,5") == 1234.5 and parse_number("1,234.5") == 1234.5 and parse_number("3,5") == 3.5
    assert parse_number("") is None and parse_number("12a") is None


def test_matching_gives_a_share_per_right_pair(tmp_path):
    q = question_from(tmp_path, "## Q\ntype: matching\n- A = 1\n- B = 2\n- C = 3\n- = 4\n")
    assert [c["md"] for c in q.choices] == ["1", "2", "3", "4"] and q.answer == {"a": "m0", "b": "m1", "c": "m2"}
    assert f(q, {"a": "m0", "b": "m1", "c": "m2"}) == 1.0
    assert round(f(q, {"a": "m0", "b": "m3", "c": "m1"}), 3) == 0.333
    assert f(q, {"zz": "m0"}) == 0.0 and f(q, ["m0"]) == 0.0


def test_ordering_scores_each_right_neighbour(tmp_path):
    q = question_from(tmp_path, "## Q\ntype: ordering\n1. a\n2. b\n3. c\n4. d\n")
    assert f(q, ["a", "b", "c", "d"]) == 1.0
    assert round(f(q, ["a", "b", "d", "c"]), 3) == 0.333
    assert f(q, ["d", "c", "b", "a"]) == 0.0
    assert f(q, ["a", "b"]) == 0.0  # incomplete


def test_essay_waits_for_a_person_and_description_is_not_graded(tmp_path):
    essay = question_from(tmp_path, "## Q\ntype: essay\n")
    assert f(essay, ["Tôi dùng mật khẩu dài"]) is None
    description = question_from(tmp_path, "## Q\ntype: description\n")
    assert not description.graded and description.points == 0


def test_markdown_in_question_options_and_feedback(tmp_path):
    q = question_from(tmp_path, "## Chọn **một**\n\nXem `mã`.\n\ntype: single\n- [x] *nghiêng*\n- [ ] <script>x</script>\n"
                                "> Xem [trang](https://dichvucong.gov.vn)\n")
    assert "<strong>một</strong>" in q.text_html and "<code>mã</code>" in q.text_html
    assert q.options[0]["html"] == "<em>nghiêng</em>" and "<script>" not in q.options[1]["html"]
    assert 'href="https://dichvucong.gov.vn"' in q.feedback_html


def test_public_views_carry_no_key(tmp_path):
    q = question_from(tmp_path, "## Q\ntype: multiple\n- [50%] y\n  > good\n- [-100%] r\n")
    assert q.public_options() == [{"id": "a", "html": "y"}, {"id": "b", "html": "r"}]
    assert SimpleNamespace(**q.public_options()[0]).html == "y"
    assert Decimal(str(q.options[0]["fraction"])) == Decimal("0.5")
