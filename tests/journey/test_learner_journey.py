"""The whole path a resident takes, through the Flask test client only."""

from sqlalchemy import select

from lms.certificates.models import Certificate
from lms.core.dates import to_local
from lms.enrollment.models import Enrollment
from lms.quizzes.models import Question
from tests.conftest import text_of


def test_register_enrol_learn_pass_and_verify(client, db_session, create_course, commune):
    course = create_course()
    vung_tau = commune("26506")

    # Register with the commune picker.
    page = client.post("/register", data={"locality_q": "vung tau", "search": "1"})
    assert "Phường Vũng Tàu" in text_of(page)
    response = client.post("/register", data={
        "full_name": "  Trần   Thị Hoà ", "login": "0912 345 678", "password": "mat-khau-123",
        "confirm": "mat-khau-123", "audience": "citizen", "locality_id": vung_tau.id, "consent": "y",
        "submit": "1"})
    assert response.status_code == 302

    # Catalogue search without diacritics.
    assert course.title in text_of(client.get("/courses?q=dich vu cong"))

    # Enrol, read, mark done.
    response = client.post(f"/courses/{course.slug}/enrol")
    assert response.status_code == 303
    enrollment = db_session.scalar(select(Enrollment).where(Enrollment.course_id == course.id))
    assert enrollment.user.full_name == "Trần Thị Hoà"
    assert enrollment.locality_id == vung_tau.id
    lessons = course.active_lessons()
    lesson_page = client.get(f"/courses/{course.slug}/lessons/{lessons[0].id}")
    html = lesson_page.get_data(as_text=True)
    assert "<script>alert" not in html and "onerror" not in html and "javascript:" not in html
    assert f"/courses/{course.slug}/assets/so-do.svg" in html
    client.post(f"/courses/{course.slug}/lessons/{lessons[0].id}/done", data={"done": "1"})
    my_learning = text_of(client.get("/my"))
    assert "50%" in my_learning
    assert "Học tiếp từ chỗ đã dừng" in my_learning  # Vietnamese is the default language
    client.post(f"/courses/{course.slug}/lessons/{lessons[1].id}/done", data={"done": "1"})
    assert db_session.scalar(select(Certificate)) is None  # the quiz is still to pass

    # The quiz page never carries the key.
    quiz = course_quiz(db_session, course)
    page = client.get(f"/quizzes/{quiz.id}").get_data(as_text=True)
    assert "correct" not in page.lower() and "Số định danh cá nhân gồm 12 chữ số" not in page
    questions = db_session.scalars(select(Question).where(Question.quiz_id == quiz.id).order_by(Question.position)).all()
    answers = {f"q{q.id}": q.answer for q in questions}
    response = client.post(f"/quizzes/{quiz.id}/submit", data=answers)
    assert response.status_code == 303
    result = text_of(client.get(response.headers["Location"]))
    assert "100%" in result

    certificate = db_session.scalar(select(Certificate).where(Certificate.course_id == course.id))
    assert certificate is not None and certificate.holder_name == "Trần Thị Hoà"
    verify = client.get(f"/verify/{certificate.serial}")
    body = text_of(verify)
    assert "Trần Thị Hoà" in body and course.title in body
    assert to_local(certificate.issued_at).strftime("%d/%m/%Y") in body  # the province's date, not UTC's
    assert "0912345678" not in verify.get_data(as_text=True)
    # Without anyone's action: the PDF and the signed credential are there, from "My certificates" too.
    mine = client.get("/my/certificates").get_data(as_text=True)
    pdf_url = f"/my/certificates/{certificate.id}/certificate.pdf"
    assert pdf_url in mine and client.get(pdf_url).data.startswith(b"%PDF")
    assert client.get(f"/verify/{certificate.serial}/credential.json").get_json(force=True)["proof"][0]["proofValue"]


def course_quiz(db_session, course):
    from lms.quizzes.models import Quiz

    return db_session.scalar(select(Quiz).where(Quiz.course_id == course.id))
