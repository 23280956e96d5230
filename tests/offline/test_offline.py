"""Issue 16, offline, through the test client: progress made without a network arrives late, twice or
replayed and counts once; the course's offline manifest lists what may be read; the service worker,
the web app manifest and the text size kept on the account."""

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select, update

from lms.core.db import utcnow
from lms.enrollment.models import Enrollment, LessonProgress, OfflineProgressRecord
from tests.catalog.test_pages import enrol, lesson_url
from tests.conftest import text_of

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture()
def learner(create_user, login):
    user = create_user("Lê Văn Tám")
    login(user)
    return user


def send(client, *records):
    response = client.post("/offline/progress", json={"records": list(records)})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [result["status"] for result in response.get_json()["results"]]


def record(lesson, at, done=True):
    return {"id": str(uuid.uuid4()), "lesson": lesson.id, "done": done, "at": at.isoformat() + "Z"}


def done_rows(db_session, enrollment_lessons):
    db_session.expire_all()
    return {row.lesson_id: row.completed_at for row in db_session.scalars(
        select(LessonProgress).where(LessonProgress.lesson_id.in_([lesson.id for lesson in enrollment_lessons]),
                                     LessonProgress.completed_at.is_not(None)))}


def test_a_late_duplicated_and_replayed_record_counts_once_at_the_time_it_was_done(client, create_course, learner,
                                                                                     db_session):
    course = create_course()
    enrol(client, course)
    db_session.execute(update(Enrollment).values(enrolled_at=utcnow() - dt.timedelta(days=1)))
    first, second = course.active_lessons()
    an_hour_ago = utcnow() - dt.timedelta(hours=1)
    late = record(first, an_hour_ago)
    # The same record twice in one request (two tabs' queues merged), then the whole queue replayed.
    assert send(client, late, late, record(second, an_hour_ago + dt.timedelta(minutes=5))) == [
        "applied", "duplicate", "applied"]
    assert send(client, late) == ["duplicate"]
    rows = done_rows(db_session, [first, second])
    assert set(rows) == {first.id, second.id}
    assert abs(rows[first.id] - an_hour_ago) < dt.timedelta(seconds=1)  # the time it was done, not received
    assert db_session.scalar(select(func.count()).select_from(OfflineProgressRecord)) == 2
    # A replayed "done" after the learner marked it not done online does not undo that either.
    client.post(f"{lesson_url(course, first)}/done", data={"done": "0"})
    assert send(client, late) == ["duplicate"]
    assert set(done_rows(db_session, [first, second])) == {second.id}


def test_a_time_in_the_future_is_taken_as_now_and_bad_records_are_refused_with_the_reason(client, create_course,
                                                                                         learner, db_session):
    course = create_course()
    enrol(client, course)
    first, _ = course.active_lessons()
    future = record(first, utcnow() + dt.timedelta(days=30))
    statuses = send(client, future, {"id": "x", "lesson": first.id, "at": "2026-01-01T00:00:00Z"},
                    {"id": str(uuid.uuid4()), "lesson": first.id, "at": "yesterday"},
                    {"id": str(uuid.uuid4()), "lesson": first.id, "at": "0001-01-01T00:00:00+01:00"},
                    {"id": str(uuid.uuid4()), "lesson": 10**12, "at": "2026-01-01T00:00:00Z"}, "not a record")
    assert statuses == ["applied", "refused", "refused", "refused", "refused", "refused"]
    assert done_rows(db_session, [first])[first.id] <= utcnow()
    answer = client.post("/offline/progress", json={"records": "nope"})
    assert answer.status_code == 400 and "at most" in answer.get_json()["error"]
    assert client.post("/offline/progress", data="{", content_type="application/json").status_code == 400


def test_progress_of_a_course_not_enrolled_is_refused_and_anonymous_sends_are_sent_to_log_in(
        client, create_course, learner, db_session):
    course = create_course()
    first, _ = course.active_lessons()
    response = client.post("/offline/progress", json={"records": [record(first, utcnow())]})
    assert response.get_json()["results"][0] == {
        "id": response.get_json()["results"][0]["id"], "status": "refused",
        "reason": "Enrol in the course first to save your progress."}
    client.post("/logout")
    assert client.post("/offline/progress", json={"records": []}).status_code in (302, 401)


def test_the_course_manifest_lists_its_pages_and_a_version_that_changes_with_a_lesson(client, create_course,
                                                                                      learner, db_session):
    course = create_course()
    first, second = course.active_lessons()
    manifest = client.get(f"/courses/{course.slug}/offline.json").get_json()
    assert manifest["urls"][:3] == [f"/courses/{course.slug}", lesson_url(course, first), lesson_url(course, second)]
    assert [lesson["title"] for lesson in manifest["lessons"]] == [first.title, second.title]
    assert manifest["bytes"] > len(first.body_html)
    first.body_html += "<p>Thêm một đoạn.</p>"
    db_session.flush()
    again = client.get(f"/courses/{course.slug}/offline.json")
    assert again.get_json()["version"] != manifest["version"] and again.headers["Cache-Control"] == "no-store"
    assert client.get("/courses/khong-co/offline.json").status_code == 404


def test_a_lesson_answers_its_version_so_a_stored_copy_can_tell_it_is_out_of_date(client, create_course, learner,
                                                                                     db_session):
    course = create_course()
    first = course.active_lessons()[0]
    response = client.get(lesson_url(course, first))
    assert response.headers["X-Lesson-Version"] == str(first.version)
    assert ('data-updated-notice="This lesson has changed since it was stored on this phone. Reload the page to '
            'read the new version."') in response.get_data(as_text=True)
    first.version += 1
    db_session.flush()
    assert client.get(lesson_url(course, first)).headers["X-Lesson-Version"] == str(first.version)


def test_downloading_a_lesson_for_offline_does_not_move_continue_where_i_left_off(client, create_course, learner,
                                                                                    db_session):
    course = create_course()
    enrol(client, course)
    first, second = course.active_lessons()
    client.get(lesson_url(course, first))
    client.get(lesson_url(course, second), headers={"X-Offline-Copy": "1"})
    db_session.expire_all()
    page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert f'href="{lesson_url(course, first)}">' in page.split('<div class="actions">')[1]


def test_service_worker_and_manifest_are_served_for_installing(client):
    worker = client.get("/sw.js")
    assert worker.mimetype == "text/javascript" and worker.headers["Cache-Control"] == "no-cache"
    text = worker.get_data(as_text=True)
    assert '"/offline"' in text and "/static/css/app." in text and "lms-course-" in text
    manifest = client.get("/manifest.webmanifest").get_json()
    assert manifest["start_url"] == "/" and {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200
    assert "Downloaded courses" in client.get("/offline").get_data(as_text=True)


def test_the_text_size_follows_the_account_to_another_device(app, client, learner, db_session):
    client.post("/text-size", data={"size": "larger", "next": "/courses"})
    other_device = app.test_client()
    other_device.post("/login", data={"login": learner.email, "password": "mat-khau-123"})
    assert 'class="text-larger"' in other_device.get("/courses").get_data(as_text=True)


def test_a_resident_home_page_shows_the_commune_help_the_manager_set(client, create_user, login, db_session, commune):
    place = commune()
    resident = create_user("Nguyễn Thị Ba", locality=place)
    manager = create_user("Trần Quản Lý", roles=("manager",), manager_of=place, audience="official")
    login(resident)
    html = client.get("/").get_data(as_text=True)
    assert "Help in your commune" in html and "No contact information yet." in html
    client.post("/logout")
    login(manager)
    assert client.get("/").headers["Location"].endswith("/courses")  # officials: the catalogue, as before
    saved = client.post("/community/contact", data={
        "contact-commune_id": place.id, "contact-phone": "0254 3852 111", "contact-place": "Nhà văn hoá khu phố 3",
        "contact-hours": "T2–T6, 8–17 giờ"})
    assert saved.status_code == 303 and "The help contact was saved." in text_of(client.get("/community/team"))
    client.post("/logout")
    login(resident)
    html = client.get("/").get_data(as_text=True)
    assert "0254 3852 111" in html and "Nhà văn hoá khu phố 3" in html and "No contact information yet." not in html
    client.post("/logout")
    assert client.get("/").headers["Location"].endswith("/courses")  # visitors: the catalogue, as before
