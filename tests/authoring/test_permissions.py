"""Every editor route: anonymous → log-in page, learner → 403, a trainer who does not own the
course → 403, its owner and an admin → allowed. Learners never see drafts or archived lessons."""

import pytest
from sqlalchemy import select

from lms.catalog.models import CourseOwner, Lesson, LessonRevision
from lms.core.db import utcnow
from lms.quizzes.models import Quiz


@pytest.fixture()
def setup(create_course, create_user, db_session, trainer):
    course = create_course()
    course.owners.append(CourseOwner(user=trainer))
    db_session.flush()
    lesson = course.active_lessons()[0]
    revision = db_session.scalar(select(LessonRevision).where(LessonRevision.lesson_id == lesson.id))
    quiz = db_session.scalar(select(Quiz).where(Quiz.course_id == course.id))
    return {"course": course, "lesson": lesson, "module": lesson.module, "revision": revision, "quiz": quiz,
            "owner": trainer, "learner": create_user("Học viên"),
            "stranger": create_user("Giảng viên khác", roles=("trainer",), audience="official"),
            "admin": create_user("Quản trị", roles=("admin",), audience="official")}


def routes(s):
    c, lsn, m, r, q = s["course"].slug, s["lesson"].id, s["module"].id, s["revision"].id, s["quiz"].id
    return [
        ("GET", f"/author/courses/{c}", None),
        ("POST", f"/author/courses/{c}", {"title": "X", "code": "TEST-101"}),
        ("POST", f"/author/courses/{c}/status", {"status": "draft"}),
        ("POST", f"/author/courses/{c}/owners", {"login": "nobody@example.vn"}),
        ("POST", f"/author/courses/{c}/owners/999999/remove", {}),
        ("POST", f"/author/courses/{c}/assets", {}),
        ("POST", f"/author/courses/{c}/modules", {"title": "Chương mới"}),
        ("GET", f"/author/courses/{c}/modules/{m}", None),
        ("POST", f"/author/courses/{c}/modules/{m}", {"title": "Mở đầu"}),
        ("POST", f"/author/courses/{c}/modules/{m}/move", {"direction": "down"}),
        ("POST", f"/author/courses/{c}/modules/{m}/lessons", {"title": "Bài mới"}),
        ("GET", f"/author/courses/{c}/lessons/{lsn}", None),
        ("POST", f"/author/courses/{c}/lessons/{lsn}", {"title": "T", "body": "B", "version": "1"}),
        ("POST", f"/author/courses/{c}/lessons/{lsn}/move", {"direction": "down"}),
        ("POST", f"/author/courses/{c}/lessons/999999/archive", {}),  # 404 for those allowed: no such lesson
        ("GET", f"/author/courses/{c}/lessons/{lsn}/history", None),
        ("GET", f"/author/courses/{c}/lessons/{lsn}/revisions/{r}", None),
        ("POST", f"/author/courses/{c}/lessons/{lsn}/revisions/{r}/revert", {"version": "1"}),
        ("POST", f"/author/courses/{c}/modules/{m}/quizzes", {"title": "Kiểm tra thêm"}),
        ("GET", f"/author/courses/{c}/quizzes/{q}", None),
        ("POST", f"/author/courses/{c}/quizzes/{q}", {"text": "x"}),
        ("GET", f"/author/courses/{c}/quizzes/{q}/settings", None),
        ("POST", f"/author/courses/{c}/quizzes/{q}/settings", {"title": "", "draw_mode": "all"}),
        ("GET", f"/author/courses/{c}/questions", None),
    ]


GENERAL = [("GET", "/author/", None), ("POST", "/author/courses", {"title": "Khóa mới"}),
           ("POST", "/author/preview.json", {"markdown": "**a**"})]
N_ROUTES = 24


def _call(client, method, url, data):
    return client.get(url) if method == "GET" else client.post(url, data=data)


def test_course_routes_refuse_everyone_but_owners_and_admins(client, setup, login, db_session):
    # One log-in per person (password hashing is slow on purpose), every route each time.
    for method, url, data in routes(setup):
        assert "/login" in _call(client, method, url, data).headers.get("Location", ""), url
    for who in ("learner", "stranger"):
        login(setup[who])
        for method, url, data in routes(setup):
            assert _call(client, method, url, data).status_code == 403, (who, method, url)
        client.post("/logout")
    db_session.expire_all()
    assert setup["course"].title == "Khóa học thử nghiệm Dịch vụ công" and setup["course"].status == "published"
    assert len(setup["course"].modules) == 2 and setup["lesson"].version == 1
    for who in ("owner", "admin"):
        login(setup[who])
        for method, url, data in routes(setup):
            response = _call(client, method, url, data)
            assert response.status_code in (200, 302, 303, 400, 404, 409), (who, method, url, response.status_code)
        client.post("/logout")
    db_session.expire_all()
    assert len(setup["course"].modules) == 4  # each of them added a module


@pytest.mark.parametrize(("method", "url", "data"), GENERAL)
def test_general_editor_routes_need_a_trainer(client, setup, login, method, url, data):
    assert _call(client, method, url, data).status_code in (302, 401)
    login(setup["learner"])
    assert _call(client, method, url, data).status_code == 403
    client.post("/logout")
    login(setup["stranger"])
    assert _call(client, method, url, data).status_code in (200, 302, 303)


def test_test_routes_cover_every_course_route(app, setup):
    rules = {r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("authoring.") and "<slug>" in r.rule}
    assert len(rules) == len({url for _, url, _ in routes(setup)}) == N_ROUTES - 5  # GET+POST pairs share a rule


def test_the_editor_lists_only_the_trainers_own_courses(client, setup, login, create_course, course_copy):
    other = create_course(course_copy("khoa-khac", code="KHAC-1", title="Khóa của người khác"))
    login(setup["owner"])
    page = client.get("/author/").get_data(as_text=True)
    assert setup["course"].title in page and other.title not in page
    client.post("/logout")
    login(setup["admin"])
    page = client.get("/author/").get_data(as_text=True)
    assert setup["course"].title in page and other.title in page


def test_learners_never_see_drafts_or_archived_lessons(client, setup, login, db_session):
    course, lesson = setup["course"], setup["lesson"]
    course.status = "draft"
    db_session.flush()
    login(setup["learner"])
    assert course.title not in client.get("/courses").get_data(as_text=True)
    assert client.get(f"/courses/{course.slug}").status_code == 403
    assert client.get(f"/courses/{course.slug}/lessons/{lesson.id}").status_code == 403
    client.post("/logout")
    login(setup["owner"])  # the owner previews the draft as a learner would see it
    assert lesson.title in client.get(f"/courses/{course.slug}/lessons/{lesson.id}").get_data(as_text=True)
    client.post("/logout")

    course.status = "published"
    db_session.get(Lesson, lesson.id).archived_at = utcnow()
    db_session.flush()
    login(setup["learner"])
    assert client.get(f"/courses/{course.slug}/lessons/{lesson.id}").status_code == 403
    assert lesson.title not in client.get(f"/courses/{course.slug}").get_data(as_text=True)


def test_cli_gives_a_trainer_an_imported_course(app, create_course, create_user, db_session):
    course = create_course()
    trainer = create_user("Giảng viên", roles=("trainer",), email="gv@example.vn")
    learner = create_user("Học viên", email="hv@example.vn")
    db_session.commit()
    runner = app.test_cli_runner()

    assert not course.can_manage(trainer)
    result = runner.invoke(args=["courses", "give", "mini-course", "gv@example.vn"])
    assert result.exit_code == 0 and "gv@example.vn can edit mini-course" in result.output
    db_session.expire_all()
    assert course.can_manage(trainer)
    refused = runner.invoke(args=["courses", "give", "mini-course", "hv@example.vn"])
    assert refused.exit_code != 0 and "chưa là giảng viên" in refused.output and not course.can_manage(learner)
