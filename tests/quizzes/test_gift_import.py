"""GIFT/Aiken import into courses (CLI, course folders), export round trip, non-UTF-8 refusal."""

import shutil

import pytest
from sqlalchemy import select

from lms.quizzes import gift, operations, queries
from lms.quizzes.models import Quiz
from tests.conftest import FIXTURE_COURSES

SAMPLE = """// [id:tf1] [tag:vneid]
::Đúng sai::Cổng Dịch vụ công cho phép nộp hồ sơ trực tuyến.{TRUE#Sai rồi.#Chính xác.}

$CATEGORY: $course$/An toàn

::Màu::What's between orange and green?{
  ~%50%yellow#half
  ~%-100%red
  ~%50%off-beige
}

::Số::Mười lăm phần trăm của 200\\: bao nhiêu?{#30:0.5 =%50%29..31 ~#Sai}

::Tên miền::Tên miền?{=dichvucong.gov.vn =%50%*dichvucong* ####Xem lại bài 2}

::Ghép::Ghép{=Căn cước -> Công an =Khai sinh -> UBND = -> Toà án}

::Tự luận::Bạn nghĩ gì?{}

Chỉ là đoạn giới thiệu.
"""


def run(app, *args):
    return app.test_cli_runner().invoke(args=["quiz", *args])


def quiz_by_key(db_session, course, key):
    return db_session.scalar(select(Quiz).where(Quiz.course_id == course.id, Quiz.key == key))


def test_cli_import_gift_creates_a_graded_quiz(app, tmp_path, create_course, db_session):
    course = create_course()
    file = tmp_path / "ngan-hang.gift"
    file.write_text(SAMPLE, encoding="utf-8")
    result = run(app, "import-gift", course.slug, str(file), "--title", "Ngân hàng câu hỏi")
    assert result.exit_code == 0, result.output
    assert "imported 7 questions" in result.output
    quiz = quiz_by_key(db_session, course, "bank/ngan-hang-cau-hoi")
    types = [q.type for q in quiz.active_questions()]
    assert types == ["true-false", "multiple", "numeric", "short", "matching", "essay", "description"]
    tf, multi, numeric, short, matching, *_ = quiz.active_questions()
    assert tf.key == "tf1" and tf.tags == ["vneid"] and tf.category == ""
    assert multi.category == "An toàn"
    assert {o["id"]: o.get("feedback_html") for o in tf.options} == {"true": "Chính xác.", "false": "Sai rồi."}
    assert float(queries.grade_question(multi, ["a", "c"])) == 1 and float(queries.grade_question(multi, ["a", "b"])) == 0
    assert float(queries.grade_question(numeric, ["30.4"])) == 1 and float(queries.grade_question(numeric, ["29"])) == 0.5
    assert float(queries.grade_question(numeric, ["5"])) == 0
    assert "200: bao nhiêu" in numeric.text_md
    assert float(queries.grade_question(short, ["abc dichvucong xyz"])) == 0.5
    assert "Xem lại bài 2" in short.feedback_html
    assert [c["md"] for c in matching.choices] == ["Công an", "UBND", "Toà án"]
    # Run again: same quiz, same questions, nothing duplicated.
    assert run(app, "import-gift", course.slug, str(file), "--title", "Ngân hàng câu hỏi").exit_code == 0
    db_session.expire_all()
    assert len(quiz_by_key(db_session, course, "bank/ngan-hang-cau-hoi").active_questions()) == 7


def test_non_utf8_gift_is_refused_with_a_clear_message(app, tmp_path, create_course, db_session):
    course = create_course()
    file = tmp_path / "cp1252.gift"
    file.write_bytes("::Q::Caf\u00e9 ist gut{T}".encode("cp1252"))
    result = run(app, "import-gift", course.slug, str(file))
    assert result.exit_code == 1 and "not UTF-8" in result.output
    assert db_session.scalar(select(Quiz).where(Quiz.key.like("bank/%"))) is None


def test_export_then_import_gives_the_same_grading(app, tmp_path, create_course, db_session, all_types_course):
    course = all_types_course()
    result = run(app, "export-gift", course.slug, "kiem-tra/quiz")
    assert result.exit_code == 0, result.output
    text = result.output
    assert "::" in text and "[markdown]" in text and "{TRUE}" in text and "-> Công an" in text
    records, errors = gift.read_gift(text)
    assert errors == []
    assert [r["qtype"] for r in records] == ["description", "multichoice", "multichoice", "truefalse", "shortanswer",
                                            "numerical", "match", "shortanswer", "essay"]
    reimported = tmp_path / "back.gift"
    reimported.write_text(text, encoding="utf-8")
    assert run(app, "import-gift", course.slug, str(reimported), "--title", "Back").exit_code == 0
    back = quiz_by_key(db_session, course, "bank/back")
    original = quiz_by_key(db_session, course, "kiem-tra/quiz")
    for a, b in zip(original.active_questions(), back.active_questions(), strict=True):
        if a.type in ("single", "multiple"):
            for response in (["a"], ["b"], ["a", "c"], ["a", "b", "c"]):
                assert queries.grade_question(a, response) == queries.grade_question(b, response), a.text_md
        if a.type == "numeric":
            for typed in ("30000", "30004", "29050", "1"):
                assert queries.grade_question(a, [typed]) == queries.grade_question(b, [typed])


def test_aiken_import(app, tmp_path, create_course, db_session):
    course = create_course()
    file = tmp_path / "a.txt"
    file.write_text("Thủ đô của Việt Nam là <b>gì</b>?\nA. Hà Nội\nB) Huế\nANSWER: A\n", encoding="utf-8")
    result = run(app, "import-aiken", course.slug, str(file), "--title", "Aiken")
    assert result.exit_code == 0, result.output
    question = quiz_by_key(db_session, course, "bank/aiken").active_questions()[0]
    assert question.type == "single" and question.answer == ["a"]
    assert "<b>" not in question.text_html and "&lt;b&gt;" in question.text_html
    bad = tmp_path / "bad.txt"
    bad.write_text("Câu hỏi\nA. one\nANSWER: A\n", encoding="utf-8")
    result = run(app, "import-aiken", course.slug, str(bad))
    assert result.exit_code == 1 and "at least 2 answers on line 3" in result.output


def test_gift_files_in_a_course_folder_become_quizzes(tmp_path, create_course, db_session):
    folder = tmp_path / "mini-course"
    shutil.copytree(FIXTURE_COURSES / "mini-course", folder)
    (folder / "02-kiem-tra" / "kiem-tra-them.gift").write_text(SAMPLE, encoding="utf-8")
    course = create_course(folder)
    quiz = quiz_by_key(db_session, course, "kiem-tra/kiem-tra-them")
    assert quiz is not None and quiz.title == "Kiem tra them" and len(quiz.active_questions()) == 7
    (folder / "02-kiem-tra" / "kiem-tra-them.gift").write_bytes(b"::Q::Caf\xe9{T}")
    from lms.catalog.source import read_course
    from lms.core.frontmatter import SourceError

    with pytest.raises(SourceError, match="kiem-tra-them.gift.*not UTF-8"):
        read_course(folder)


def test_a_quiz_draws_per_category_from_a_course_bank(app, tmp_path, create_course, db_session):
    import random

    from lms.enrollment import operations as enrollment_ops
    from lms.quizzes.queries import question_count

    folder = tmp_path / "mini-course"
    shutil.copytree(FIXTURE_COURSES / "mini-course", folder)
    bank = "$CATEGORY: Dễ\n\n" + "\n\n".join(f"::D{n}::Dễ {n}?{{T}}" for n in range(5)) + "\n\n$CATEGORY: Khó\n\n" + \
        "\n\n".join(f"::K{n}::Khó {n}?{{F}}" for n in range(4)) + "\n"
    (folder / "02-kiem-tra" / "ngan-hang.gift").write_text(bank, encoding="utf-8")
    (folder / "02-kiem-tra" / "thi.quiz.md").write_text(
        "---\ntitle: Thi\nbank: [kiem-tra/ngan-hang]\ndraw: {Dễ: 2, Khó: 1}\ntime_limit: 10\n---\n\n"
        "## Câu cố định\ntype: true-false\nanswer: true\n", encoding="utf-8")
    course = create_course(folder)
    exam = quiz_by_key(db_session, course, "kiem-tra/thi")
    assert question_count(exam) == 4
    from lms.accounts import operations as account_ops

    user = account_ops.create_user("Học Viên", "mat-khau-123", email="hv@x.vn")
    enrollment_ops.enrol(user, course)
    layouts = set()
    for seed in range(6):
        attempt = operations.start_attempt(exam, user, rng=random.Random(seed))
        questions = queries.attempt_questions(attempt)
        assert len(questions) == 4 and questions[0].text_md == "Câu cố định"
        assert sorted(q.category for q in questions[1:]) == ["Dễ", "Dễ", "Khó"]
        layouts.add(tuple(q.id for q in questions))
        operations.finish_attempt(attempt)
    assert len(layouts) > 1  # the draw differs between attempts
    with pytest.raises(Exception, match="needs `draw`"):
        from lms.quizzes.markdown_format import parse_quiz

        bad = tmp_path / "bad.quiz.md"
        bad.write_text("---\ntitle: X\nbank: kiem-tra/ngan-hang\n---\n", encoding="utf-8")
        parse_quiz(bad)
