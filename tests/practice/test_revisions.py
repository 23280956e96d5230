"""A simulation's revision history names the steps that changed, not only the file's lines."""

from sqlalchemy import select

from lms.catalog.models import CourseOwner, LessonRevision
from lms.practice.queries import step_changes
from tests.conftest import text_of
from tests.practice.conftest import SIMULATION

INSERTED = """## Chọn dịch vụ
Danh sách dịch vụ.
action: tap
- [x] Định danh
- [ ] Thuế
hint: Chọn dòng đầu.
> Dịch vụ định danh nằm đầu danh sách.

"""


def edited():
    text = SIMULATION.replace("answer: 482913", "answer: 482913 | 482 913")  # step 2: answers
    text = text.replace("## Nhập mã OTP", INSERTED + "## Nhập mã OTP")  # a new step before it
    return text.replace("## Xác nhận thanh toán", "## Xác nhận thanh toán phí")  # step 3 renamed


def test_step_changes_pair_steps_by_title():
    changes = step_changes(SIMULATION, edited())
    summary = [(c["status"], c["old"] and c["old"][0], c["new"] and c["new"][0], c["parts"]) for c in changes]
    assert summary == [("same", 1, 1, []), ("added", None, 2, []), ("changed", 2, 3, ["answers"]),
                       ("changed", 3, 4, ["title"])]
    assert step_changes(SIMULATION, "---\n: [\n---\n") is None  # unreadable front matter: only the text diff


def test_the_history_page_shows_the_steps_diff(client, create_user, login, practice_course, simulation_lesson,
                                               db_session, english):
    trainer = create_user("Giảng Viên", roles=["trainer"])
    practice_course.owners.append(CourseOwner(user_id=trainer.id))
    db_session.flush()
    login(trainer)
    url = f"/author/courses/{practice_course.slug}/lessons/{simulation_lesson.id}"
    version = simulation_lesson.version
    assert client.post(url, data={"title": "x", "body": edited(), "version": str(version)}).status_code == 302
    first = db_session.scalars(select(LessonRevision).where(LessonRevision.lesson_id == simulation_lesson.id)
                               .order_by(LessonRevision.version)).first()
    page = text_of(client.get(f"{url}/revisions/{first.id}"))
    assert "— 2. Chọn dịch vụ added" in page
    assert "2. Nhập mã OTP 3. Nhập mã OTP changed: accepted answers" in page
    assert "3. Xác nhận thanh toán 4. Xác nhận thanh toán phí changed: title" in page
    assert "The file, line by line" in page
