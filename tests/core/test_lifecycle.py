"""The request lifecycle (lms.core.lifecycle): one transaction per request, the object or 404, the model's check."""

import pytest
from werkzeug.exceptions import Forbidden, NotFound

from lms.accounts.models import User
from lms.core.lifecycle import allowed, load, view
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
