"""The request lifecycle (lms.core.lifecycle): one transaction per request, the object or 404, the model's check."""

import pytest
from sqlalchemy import delete, select, text, update
from werkzeug.exceptions import Forbidden, NotFound

from lms.accounts.models import User
from lms.core.lifecycle import allowed, discard, found, get_or_404, load, save_now, view
from lms.extensions import db


@pytest.fixture()
def person(db_session, create_user):
    user = create_user("Trần Thị Bình")
    db_session.commit()
    return user


def _name(user) -> str:
    db.session.expire(user)
    return user.full_name


@pytest.mark.parametrize("outcome", ["refused", "raised"])
def test_a_refused_or_failed_change_is_never_committed(app, person, outcome):
    @view
    def rename():
        person.full_name = "Tên khác"
        db.session.flush()
        if outcome == "raised":
            raise ValueError("boom")
        return "bad input", 400

    with app.test_request_context(method="POST"):
        if outcome == "raised":
            with pytest.raises(ValueError):
                rename()
        else:
            assert rename() == ("bad input", 400)
    db.session.rollback()  # what the end of the request does with what was not committed
    assert _name(person) == "Trần Thị Bình"


def test_load_gives_the_row_or_404_and_allowed_asks_the_model(app, person):
    User.can_rename = lambda self, user: user.is_authenticated and user.id == self.id  # as models have
    try:
        @view
        @load(User, "user_id")
        @allowed("rename")
        def rename(user):
            return user.full_name

        with app.test_request_context():
            with pytest.raises(NotFound):
                rename(user_id=10**9)
            with pytest.raises(Forbidden):  # anonymous: the model says no
                rename(user_id=person.id)
    finally:
        del User.can_rename


def test_a_successful_view_commits_once_by_itself(app, person):
    @view
    def rename():
        person.full_name = "Tên mới"  # the view never commits: the lifecycle does, on success
        return "", 303

    with app.test_request_context(method="POST"):
        rename()
    db.session.rollback()  # nothing left to drop: it was committed
    assert _name(person) == "Tên mới"


def test_save_now_keeps_what_a_refusal_wrote_and_discard_drops_a_half_done_change(app, person):
    @view
    def failed_login():
        person.full_name = "Đếm lần sai"
        save_now()  # a failed try counts although the answer is a 400
        return "wrong password", 400

    @view
    def half_done():
        person.full_name = "Nửa chừng"
        db.session.flush()
        discard()  # the operation refused half way; the view still answers with a redirect
        return "", 303

    with app.test_request_context(method="POST"):
        failed_login()
        assert _name(person) == "Đếm lần sai"
        half_done()
    assert _name(person) == "Đếm lần sai"


def test_get_or_404_and_found_answer_404_for_missing_or_foreign_rows(app, person):
    with app.test_request_context():
        assert get_or_404(User, person.id, full_name=person.full_name) is person
        for missing in (lambda: get_or_404(User, 10**9), lambda: get_or_404(User, None),
                        lambda: get_or_404(User, person.id, full_name="someone else"),
                        lambda: found(None), lambda: found(person, False)):
            with pytest.raises(NotFound):
                missing()


# ---------------------------------------------------------------- a page view that writes commits, however it wrote

@pytest.fixture()
def stored_person(app):
    """A committed user, outside the tests' rolled-back transaction: these tests watch real commits."""
    from lms.accounts import operations

    with app.app_context():
        user_id = operations.create_user("Lê Văn Cường", "mat-khau-123", email="lifecycle-commit@example.vn").id
        db.session.commit()
        db.session.remove()
    yield user_id
    with app.app_context():
        db.session.execute(delete(User).where(User.id == user_id))
        db.session.commit()
        db.session.remove()


def _stored_name(user_id) -> str:
    with db.engine.connect() as connection:  # another connection: sees only what was committed
        return connection.execute(select(User.full_name).where(User.id == user_id)).scalar_one()


@pytest.mark.parametrize("how", ["text", "core on the connection", "orm"])
def test_a_page_view_that_writes_commits_however_it_wrote(app, stored_person, how):
    @view
    def visit():
        db.session.execute(select(User.id).where(User.id == stored_person)).all()  # reads first, as pages do
        if how == "text":
            db.session.execute(text("UPDATE users SET full_name = 'Tên mới' WHERE id = :id"), {"id": stored_person})
        elif how == "core on the connection":
            db.session.connection().execute(update(User.__table__).where(User.__table__.c.id == stored_person)
                                            .values(full_name="Tên mới"))
        else:
            db.session.get(User, stored_person).full_name = "Tên mới"  # not flushed yet: the commit flushes it
        return "ok"

    with app.app_context():
        with app.test_request_context(method="GET"):
            assert visit() == "ok"
        db.session.remove()  # the end of the request: whatever was not committed is gone
        assert _stored_name(stored_person) == "Tên mới"
