"""The light person of the most-read pages (lms.accounts.viewer): the same checks as the ORM path, every request.

The library listing and item pages and the lesson page are marked @light_viewer; these tests open them
after each way a session stops (log-out, an ended record, a bumped session version, a deactivated account)
and after a role removed behind the session's back, and check the very next request sees it.
"""

from flask import request_finished
from flask_login import current_user
from sqlalchemy import select, update

from lms.accounts import operations
from lms.accounts.models import RoleGrant, SessionRecord, User
from lms.accounts.viewer import Viewer

ADD = "/library/new"  # the "Add an item" button a librarian sees on the library listing


def _signed_in(client, user) -> bool:
    """Whether the library listing (a light page) shows `user` as signed in: their name links to the profile."""
    page = client.get("/library")
    assert page.status_code == 200
    return f'href="/profile">{user.full_name}</a>' in page.get_data(as_text=True)


def test_light_pages_get_a_viewer_and_other_pages_the_orm_user(app, client, db_session, create_user, login):
    user = create_user(roles=("librarian",))
    login(user)
    seen = []

    def note(_sender, response, **_extra):
        seen.append(type(current_user._get_current_object()))

    with request_finished.connected_to(note, app):
        page = client.get("/library")
        assert ADD in page.get_data(as_text=True)  # the role read from the one row
        assert client.get("/my").status_code == 200
    assert seen == [Viewer, User]


def test_viewer_answers_other_attributes_from_the_orm_user(app, db_session, create_user):
    user = create_user(roles=("librarian",))
    with app.test_request_context("/library"):
        from lms.accounts import viewer

        person, last_seen = viewer.load(user.id, "no-such-key")
        assert last_seen is None  # no live record under that key: the loader refuses it
        assert (person.id, person.full_name, person.roles) == (user.id, user.full_name, frozenset({"librarian"}))
        assert person.has_role("librarian") and not person.is_admin and person.is_active
        assert [grant.role for grant in person.grants] == ["librarian"]  # from the ORM User, loaded once
        assert person.orm_user() is person.orm_user() is db_session.get(User, user.id)
        assert person == user and person.get_id() == user.get_id()


def test_log_out_and_an_ended_record_end_the_light_page_session(app, client, db_session, create_user, login):
    user = create_user()
    login(user)
    assert _signed_in(client, user)
    db_session.execute(update(SessionRecord).where(SessionRecord.user_id == user.id)
                       .values(ended_at=SessionRecord.created_at))
    db_session.flush()
    assert not _signed_in(client, user)

    other = app.test_client()
    login_response = other.post("/login", data={"login": user.email, "password": "mat-khau-123"})
    assert login_response.status_code == 302
    assert _signed_in(other, user)
    other.post("/logout")
    assert not _signed_in(other, user)


def test_a_bumped_session_version_and_deactivation_take_effect_on_the_next_light_request(
        client, db_session, create_user, login):
    user = create_user()
    login(user)
    assert _signed_in(client, user)
    operations.end_sessions(user)  # a password change, erasure, a role change: every session stops
    db_session.flush()
    assert not _signed_in(client, user)

    login(user)
    assert _signed_in(client, user)
    user.is_active = False
    db_session.flush()
    assert not _signed_in(client, user)


def test_a_role_removed_is_gone_on_the_next_light_request(client, db_session, create_user, login):
    user = create_user(roles=("librarian",))
    login(user)
    assert ADD in client.get("/library").get_data(as_text=True)
    # Removed behind the session's back (no session ended): nothing about the role is kept between requests.
    db_session.delete(db_session.scalars(select(RoleGrant).where(RoleGrant.user_id == user.id)).one())
    db_session.flush()
    page = client.get("/library")
    assert _signed_in(client, user) and ADD not in page.get_data(as_text=True)


def test_the_lesson_page_is_light_and_refuses_an_ended_session(client, db_session, create_user, create_course, login):
    course = create_course()
    user = create_user()
    login(user)
    lesson = course.active_lessons()[0]
    path = f"/courses/{course.slug}/lessons/{lesson.id}"
    assert user.full_name in client.get(path).get_data(as_text=True)
    operations.end_sessions(user)
    db_session.flush()
    assert user.full_name not in client.get(path).get_data(as_text=True)
