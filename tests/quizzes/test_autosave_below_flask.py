"""The JSON autosave answered below Flask (lms/quizzes/fast_save.py, issue 17 item 2): the layer answers
a valid save itself, with the answer Flask would give, and leaves every other case to Flask untouched.

CSRF is on in these tests (the suite switches it off): the learner's session gets a raw token, and the
page's signed token goes in the form field as the quiz page's script sends it."""

import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select, update

from lms.accounts.models import SessionRecord, User
from lms.catalog.models import Course
from lms.core.db import utcnow
from lms.quizzes.models import Attempt, AttemptAnswer
from tests.quizzes.test_attempts import by_type, start

pytestmark = pytest.mark.usefixtures("english")
RAW = "0123456789abcdef0123456789abcdef01234567"


class _PastSigner(TimestampSigner):
    def get_timestamp(self):
        return int(time.time()) - 7200


class _Past(URLSafeTimedSerializer):
    default_signer = _PastSigner


@pytest.fixture()
def csrf_on(app, client, monkeypatch):
    """Returns `signed(raw=…)`: a token signed for a raw one. `signed.on()`, once signed in and the attempt
    started: CSRF checked from then on as in production, and the session holds the raw token."""

    def signed(raw=RAW, serializer=URLSafeTimedSerializer):
        return serializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)

    def on():
        monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
        monkeypatch.setitem(app.config, "WTF_CSRF_TIME_LIMIT", 3600)
        with client.session_transaction() as session:
            session["csrf_token"] = RAW

    signed.on = on
    return signed


@pytest.fixture()
def fast(app):
    layer = app.extensions["lms_fast_save"]
    before = layer.answered
    return lambda: layer.answered - before


def post(client, attempt_id, qid, token, *, value="a", version=1000, accept="application/json", **headers):
    form = {"shown": str(qid), f"q{qid}": value, f"v{qid}": str(version)}
    if token is not None:
        form["csrf_token"] = token
    return client.post(f"/attempts/{attempt_id}/save", data=form, headers={"Accept": accept, **headers})


def stored(db_session, attempt_id, qid):
    db_session.expire_all()
    return db_session.execute(select(AttemptAnswer.response, AttemptAnswer.version).where(
        AttemptAnswer.attempt_id == attempt_id, AttemptAnswer.question_id == qid)).first()


def _started(client, setup, csrf, extra=""):
    quiz, user = setup(extra)
    attempt_id = start(client, quiz)
    csrf.on()
    return quiz, user, attempt_id, by_type(quiz)["single"]


def test_a_valid_autosave_is_answered_below_flask_and_stored(client, setup, csrf_on, fast, db_session):
    _, _, attempt_id, question = _started(client, setup, csrf_on)
    option = question.options[0]["id"]
    response = post(client, attempt_id, question.id, csrf_on(), value=option, **{"X-Request-ID": "exam-day-0001"})
    assert response.status_code == 200 and fast() == 1
    assert response.get_json()["answers"][str(question.id)] == {"state": "saved", "version": 1000}
    assert response.headers["X-Request-ID"] == "exam-day-0001"
    assert tuple(stored(db_session, attempt_id, question.id)) == ([option], 1000)
    # The token in the header, as Flask-WTF also accepts it; an older version changes nothing.
    again = post(client, attempt_id, question.id, None, version=999, **{"X-CSRFToken": csrf_on()})
    assert again.status_code == 200 and fast() == 2
    assert again.get_json()["answers"][str(question.id)] == {"state": "kept", "version": 1000}


@pytest.mark.parametrize("case", ["missing", "tampered", "expired", "another session's"])
def test_a_bad_csrf_token_is_left_to_flask(client, setup, csrf_on, fast, db_session, case):
    _, _, attempt_id, question = _started(client, setup, csrf_on)
    token = {"missing": None, "tampered": csrf_on()[:-2] + "xx", "expired": csrf_on(serializer=_Past),
             "another session's": csrf_on(raw="f" * 40)}[case]
    response = post(client, attempt_id, question.id, token)
    assert response.status_code == 400 and fast() == 0
    assert stored(db_session, attempt_id, question.id) is None


def _refusal(case, db_session, user, attempt_id, client, token):
    if case == "ended session record":
        db_session.execute(update(SessionRecord).where(SessionRecord.user_id == user.id).values(ended_at=utcnow()))
    elif case == "new session version":
        db_session.execute(update(User).where(User.id == user.id).values(session_version=User.session_version + 1))
    elif case == "inactive account":
        db_session.execute(update(User).where(User.id == user.id).values(is_active=False))
    elif case == "time up":
        db_session.execute(update(Attempt).where(Attempt.id == attempt_id).values(deadline=utcnow().replace(year=2000)))
    elif case == "finished":
        assert client.post(f"/attempts/{attempt_id}/finish", data={"csrf_token": token},
                           headers={"Accept": "application/json"}).status_code == 200
    db_session.commit()


@pytest.mark.parametrize("case, status", [
    ("ended session record", 401), ("new session version", 401), ("inactive account", 401),
    ("finished", 409), ("time up", 409)])
def test_who_and_what_refusals_are_answered_by_flask(client, setup, csrf_on, fast, db_session, case, status):
    _, user, attempt_id, question = _started(client, setup, csrf_on, "time_limit: 10\ngrace: 0")
    _refusal(case, db_session, user, attempt_id, client, csrf_on())
    response = post(client, attempt_id, question.id, csrf_on())
    assert response.status_code == status and fast() == 0, response.get_data(as_text=True)[:200]
    if case == "time up":
        assert response.get_json()["error"] == "time_up"
        db_session.expire_all()
        assert db_session.get(Attempt, attempt_id).submitted_at is not None
    found = stored(db_session, attempt_id, question.id)
    assert found is None or found.version != 1000


def test_another_users_attempt_is_left_to_flask(app, client, setup, csrf_on, fast, db_session, create_user,
                                               monkeypatch):
    quiz, _, attempt_id, question = _started(client, setup, csrf_on)
    other = create_user("Lê Văn Khác", email="khac@example.vn")
    from lms.enrollment import operations as enrollment_ops

    enrollment_ops.enrol(other, db_session.get(Course, quiz.course_id))
    db_session.commit()
    browser = app.test_client()
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    assert browser.post("/login", data={"login": other.email, "password": "mat-khau-123"}).status_code == 302
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    with browser.session_transaction() as session:
        session["csrf_token"] = RAW
    response = post(browser, attempt_id, question.id, csrf_on())
    assert response.status_code in (403, 404) and fast() == 0  # Flask: not theirs to review
    assert stored(db_session, attempt_id, question.id) is None


def test_a_form_post_without_json_is_left_to_flask(client, setup, csrf_on, fast, db_session):
    _, _, attempt_id, question = _started(client, setup, csrf_on)
    response = post(client, attempt_id, question.id, csrf_on(), accept="text/html")
    assert response.status_code == 303 and fast() == 0
    assert stored(db_session, attempt_id, question.id) is not None  # saved by the full view


def _comparable(response):
    headers = sorted((name, value) for name, value in response.headers if name not in ("X-Request-ID", "Date"))
    return response.status_code, headers, response.get_data()


def test_the_answer_is_flasks_answer(app, client, setup, csrf_on, fast, monkeypatch):
    """The same saves on two attempts, below Flask then through Flask: a large one (compressed), a small one."""
    quiz, _, first, question = _started(client, setup, csrf_on, "attempts: 2")
    large = {"shown": [str(question.id), *map(str, range(900_000, 900_030))], f"q{question.id}": "a",
             f"v{question.id}": "1000", "csrf_token": csrf_on()}
    small = {"shown": str(question.id), f"q{question.id}": "b", f"v{question.id}": "1001", "csrf_token": csrf_on()}
    sends = [(large, {"Accept": "application/json", "Accept-Encoding": "gzip, br"}),
             (small, {"Accept": "application/json", "Accept-Encoding": "gzip"})]
    below = [client.post(f"/attempts/{first}/save", data=form, headers=headers) for form, headers in sends]
    assert fast() == 2 and below[0].headers["Content-Encoding"] == "br" and "Content-Encoding" not in below[1].headers
    assert client.post(f"/attempts/{first}/finish", data={"csrf_token": csrf_on()},
                       headers={"Accept": "application/json"}).status_code == 200
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    second = start(client, quiz)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    monkeypatch.setattr(app.extensions["lms_fast_save"], "_answer", lambda *_: None)
    through = [client.post(f"/attempts/{second}/save", data=form, headers=headers) for form, headers in sends]
    assert fast() == 2
    assert [_comparable(r) for r in below] == [_comparable(r) for r in through]
