"""Quiz settings in the browser and the course's question bank: a GIFT bank in, a randomised
timed exam out, the quiz file still the one source."""

import datetime as dt
import io
import re

import pytest
from sqlalchemy import select

from lms.catalog.export import export_course
from lms.catalog.models import CourseOwner
from lms.enrollment import operations as enrollment_ops
from lms.quizzes import operations, queries
from lms.quizzes.models import Question, Quiz
from tests.conftest import text_of

pytestmark = pytest.mark.usefixtures("english")

BANK = """// Moodle writes tags in a comment before the question.
$CATEGORY: $course$/Dịch vụ công

// [tag:vneid]
::DVC1::Ứng dụng định danh điện tử quốc gia là?{=VNeID ~Zalo ~Facebook}

::DVC2::Cổng Dịch vụ công cho phép nộp hồ sơ trực tuyến.{T}

// [tag:vneid]
::DVC3::Mức định danh nào cần để làm thủ tục trực tuyến?{=Mức 2 ~Mức 0}

$CATEGORY: $course$/An toàn thông tin

// [tag:lua-dao]
::ATTT1::Có nên đọc mã OTP cho người gọi điện không?{F}

// [tag:lua-dao]
::ATTT2::Đường link lạ trong tin nhắn nên làm gì?{=Xoá tin nhắn ~Bấm vào xem}
"""


@pytest.fixture()
def owned(create_course, trainer, login, db_session):
    course = create_course()
    course.owners.append(CourseOwner(user=trainer))
    db_session.flush()
    login(trainer)
    return course


@pytest.fixture()
def bank(client, owned, db_session):
    response = client.post(f"/courses/{owned.slug}/quizzes/manage", data={
        "format": "gift", "title": "Ngân hàng đề", "file": (io.BytesIO(BANK.encode()), "bank.gift")},
        content_type="multipart/form-data")
    assert response.status_code in (302, 303)
    return db_session.scalar(select(Quiz).where(Quiz.course_id == owned.id, Quiz.key == "bank/ngan-hang-de"))


def _exam(db_session, course):
    return db_session.scalar(select(Quiz).where(Quiz.course_id == course.id, Quiz.module_id.is_not(None)))


def _form(quiz, **changes):
    data = {"title": quiz.title, "time_limit": "0", "grace": "30", "attempts": "0", "grading": "highest",
            "feedback": "after-submit", "review": ["score", "responses", "key", "feedback"], "layout": "all",
            "navigation": "free", "draw_mode": "all"}
    data.update(changes)
    return data


def test_the_bank_lists_categories_and_tags_and_filters_without_diacritics(client, owned, bank):
    url = f"/author/courses/{owned.slug}/questions"
    page = text_of(client.get(url))
    assert "Dịch vụ công (3)" in page and "An toàn thông tin (2)" in page and "vneid (2)" in page
    assert "Ứng dụng định danh điện tử quốc gia là?" in page and "Số định danh cá nhân có bao nhiêu chữ số?" in page
    only = text_of(client.get(url, query_string={"category": "An toàn thông tin"}))
    assert "2 questions shown" in only and "Đường link lạ" in only and "Ứng dụng định danh" not in only
    tagged = text_of(client.get(url, query_string={"tag": "vneid", "category": "__all__"}))
    assert "2 questions shown" in tagged and "Mức định danh nào" in tagged
    words = text_of(client.get(url, query_string={"q": "dinh danh dien tu"}))
    assert "1 question shown" in words and "Ứng dụng định danh điện tử quốc gia là?" in words


def test_a_randomised_timed_exam_is_built_in_the_form_and_written_into_the_quiz_file(
        client, owned, bank, db_session, create_user, tmp_path):
    exam = _exam(db_session, owned)
    body_before = exam.source_text.split("\n---\n", 1)[1]
    url = f"/author/courses/{owned.slug}/quizzes/{exam.id}/settings"
    page = client.get(url)
    assert page.status_code == 200 and "Settings of Bài kiểm tra" in text_of(page)
    # Choosing the bank and asking for its categories saves nothing yet.
    shown = client.post(url, data=_form(exam, banks=[bank.key], refresh="1"))
    assert "Dịch vụ công" in text_of(shown) and "An toàn thông tin" in text_of(shown)
    db_session.expire_all()
    assert exam.banks == []

    saved = client.post(url, data=_form(
        exam, banks=[bank.key], draw_mode="category", **{"draw_cat:Dịch vụ công": "2", "draw_cat:An toàn thông tin": "1"},
        time_limit="20", attempts="1", opens="2026-12-01T08:00", closes="2026-12-01T11:00", navigation="sequential",
        layout="per-page", shuffle="y", review=["score"], pass_mark="80"))
    assert saved.status_code == 302, text_of(saved)
    db_session.expire_all()
    assert exam.time_limit_minutes == 20 and exam.max_attempts == 1 and exam.pass_mark == 80 and exam.shuffle
    assert exam.banks == [bank.key] and exam.draw == {"Dịch vụ công": 2, "An toàn thông tin": 1}
    assert exam.opens_at == dt.datetime(2026, 12, 1, 1, 0) and exam.closes_at == dt.datetime(2026, 12, 1, 4, 0)  # UTC
    assert exam.navigation == "sequential" and exam.layout == "per-page" and exam.review == ["score"]
    # The file carries the settings; the questions below the front matter are untouched; git gets the same file.
    assert exam.source_text.split("\n---\n", 1)[1] == body_before
    assert "opens: 2026-12-01 08:00" in exam.source_text and "time_limit: 20" in exam.source_text
    exported = (export_course(owned, tmp_path) / "02-kiem-tra" / "quiz.md").read_text(encoding="utf-8")
    assert exported == exam.source_text

    # A learner's attempt draws 2 + 1 from the bank, plus the quiz's own questions.
    learner = create_user("Học Viên Thi", email="thi@example.vn")
    enrollment_ops.enrol(learner, owned)
    attempt = operations.start_attempt(exam, learner, now=dt.datetime(2026, 12, 1, 2, 0))
    drawn = [q for q in queries.attempt_questions(attempt) if q.quiz_id == bank.id]
    assert sorted(q.category for q in drawn) == ["An toàn thông tin", "Dịch vụ công", "Dịch vụ công"]
    assert attempt.deadline == dt.datetime(2026, 12, 1, 2, 20)
    # The form shows what is saved.
    again = client.get(url).get_data(as_text=True)
    assert 'value="2026-12-01T08:00"' in again and 'name="draw_cat:Dịch vụ công"' in again and 'value="2"' in again


@pytest.mark.parametrize("changes, message", [
    ({"opens": "2026-12-01T10:00", "closes": "2026-12-01T09:00"}, "The closing time must be after the opening time."),
    ({"banks": ["bank/ngan-hang-de"]}, "A quiz that draws from banks needs a number of questions"),
    ({"draw_mode": "count"}, "Say how many questions to draw at random."),
    ({"draw_mode": "category", "draw_cat:Dịch vụ công": "hai"}, "Enter a whole number of questions for each category"),
    ({"draw_mode": "category"}, "Give at least one category a number of questions to draw."),
    ({"time_limit": "-5"}, "Enter a whole number between 0 and 10000."),
    ({"title": ""}, "Enter a title."),
])
def test_bad_settings_are_refused_with_a_message_and_nothing_changes(client, owned, bank, db_session, changes, message):
    exam = _exam(db_session, owned)
    before = exam.source_text
    response = client.post(f"/author/courses/{owned.slug}/quizzes/{exam.id}/settings", data=_form(exam, **changes))
    assert response.status_code == 400 and message in text_of(response)
    db_session.expire_all()
    assert exam.source_text == before


def test_a_stale_settings_form_is_refused(client, owned, db_session):
    exam = _exam(db_session, owned)
    url = f"/author/courses/{owned.slug}/quizzes/{exam.id}/settings"
    response = client.post(url, data=_form(exam, opened="0000000000000000", time_limit="15"))
    assert response.status_code == 409 and "Someone else saved this page" in text_of(response)
    db_session.expire_all()
    assert exam.time_limit_minutes == 0


def test_back_to_defaults_leaves_a_short_file(client, owned, db_session):
    exam = _exam(db_session, owned)
    url = f"/author/courses/{owned.slug}/quizzes/{exam.id}/settings"
    assert client.post(url, data=_form(exam, time_limit="30")).status_code == 302
    assert client.post(url, data=_form(exam, time_limit="0")).status_code == 302
    db_session.expire_all()
    head = exam.source_text.split("\n---\n", 1)[0]
    assert "time_limit" not in head and "grace" not in head and head.startswith("---\ntitle: Bài kiểm tra")


def test_a_gift_bank_has_no_settings_page(client, owned, bank):
    response = client.get(f"/author/courses/{owned.slug}/quizzes/{bank.id}/settings", follow_redirects=True)
    assert "holds questions only" in text_of(response) and "Question bank of" in text_of(response)


def test_only_the_courses_editors_reach_settings_and_bank(client, owned, db_session, create_user, login):
    exam = _exam(db_session, owned)
    urls = (f"/author/courses/{owned.slug}/quizzes/{exam.id}/settings", f"/author/courses/{owned.slug}/questions")
    other = create_user("Giảng Viên Khác", roles=("trainer",), audience="official", email="khac@example.vn")
    learner = create_user("Học Viên", email="hv@example.vn")
    for user in (other, learner):
        client.post("/logout")
        login(user)
        for url in urls:
            assert client.get(url).status_code == 403
    assert client.post(urls[0], data=_form(exam, time_limit="5")).status_code == 403
    client.post("/logout")
    assert client.get(urls[1]).status_code == 302
    db_session.expire_all()
    assert db_session.scalar(select(Question.id).where(Question.quiz_id == exam.id)) is not None
    assert exam.time_limit_minutes == 0


def test_the_editor_chooses_when_the_right_answers_are_shown(client, owned, db_session):
    """Issue 12, finding 8: the default (no `answers:` line) is Moodle's; the editor can choose otherwise."""
    exam = _exam(db_session, owned)
    url = f"/author/courses/{owned.slug}/quizzes/{exam.id}/settings"
    html = client.get(url).get_data(as_text=True)
    assert exam.answers_shown == "when-done"
    assert re.search(r'<option selected value="when-done"|value="when-done" selected', html)
    assert client.post(url, data=_form(exam, answers="after-submit")).status_code == 302
    db_session.expire_all()
    assert exam.answers_shown == "after-submit" and "\nanswers: after-submit\n" in exam.source_text
    assert client.post(url, data=_form(exam, answers="when-done")).status_code == 302
    db_session.expire_all()
    assert exam.answers_shown == "when-done" and "answers:" not in exam.source_text
    assert client.post(url, data=_form(exam, answers="always")).status_code == 400
