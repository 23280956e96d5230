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
    # The token in the header, as Flask-WTF also accepts it.
    newer = post(client, attempt_id, question.id, None, version=1001, **{"X-CSRFToken": csrf_on()})
    assert newer.status_code == 200 and fast() == 2
    # An older version changes nothing. Below Flask nothing holds the attempt's lock, so an answer not stored may also
    # mean a submission came first: Flask answers it under the lock ("kept" here).
    again = post(client, attempt_id, question.id, None, version=999, **{"X-CSRFToken": csrf_on()})
    assert again.status_code == 200 and fast() == 2
    assert again.get_json()["answers"][str(question.id)] == {"state": "kept", "version": 1001}


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


# ---------------------------------------------------------------- the copies of Flask-WTF and Flask-Compress, pinned

def test_the_copies_were_checked_against_the_installed_flask_wtf_and_flask_compress(app):
    from lms.quizzes import fast_save
    from tests.pinned import assert_checked_against

    assert_checked_against(fast_save.CHECKED_AGAINST, "lms/quizzes/fast_save.py",
                           "_csrf_token/_csrf_ok (flask_wtf.csrf: CSRFProtect.protect, _get_csrf_token, validate_csrf, "
                           "same_origin, init_app's defaults) and _compress (flask_compress: Compress.after_request, "
                           "_choose_algorithm, _compress_data)")
    # _csrf_ok applies no exemption: the save must not be exempt from Flask-WTF's check either.
    csrf, view = app.extensions["csrf"], app.view_functions[fast_save.ENDPOINT]
    assert f"{view.__module__}.{view.__name__}" not in csrf._exempt_views
    assert app.blueprints["quizzes"] not in csrf._exempt_blueprints


def _sign(app, raw=RAW, secret=None, serializer=URLSafeTimedSerializer):
    return serializer(secret or app.secret_key, salt="wtf-csrf-token").dumps(raw)


# name: (form, headers, the session's raw token, config, https, referrer)
_CSRF_CASES = {
    "in the field": (lambda a: {"csrf_token": _sign(a)}, {}, RAW, {}, False, None),
    "in a prefixed field": (lambda a: {"quiz-csrf_token": _sign(a)}, {}, RAW, {}, False, None),
    "in X-CSRFToken": (lambda a: {}, lambda a: {"X-CSRFToken": _sign(a)}, RAW, {}, False, None),
    "in X-CSRF-Token, the field empty": (lambda a: {"csrf_token": ""}, lambda a: {"X-CSRF-Token": _sign(a)}, RAW, {},
                                         False, None),
    "missing": (lambda a: {}, {}, RAW, {}, False, None),
    "tampered": (lambda a: {"csrf_token": _sign(a)[:-2] + "xx"}, {}, RAW, {}, False, None),
    "expired": (lambda a: {"csrf_token": _sign(a, serializer=_Past)}, {}, RAW, {"WTF_CSRF_TIME_LIMIT": 3600}, False,
                None),
    "old, no time limit": (lambda a: {"csrf_token": _sign(a, serializer=_Past)}, {}, RAW, {"WTF_CSRF_TIME_LIMIT": None},
                           False, None),
    "another session's": (lambda a: {"csrf_token": _sign(a, raw="f" * 40)}, {}, RAW, {}, False, None),
    "no raw token in the session": (lambda a: {"csrf_token": _sign(a)}, {}, None, {}, False, None),
    "WTF_CSRF_SECRET_KEY": (lambda a: {"csrf_token": _sign(a, secret="csrf-secret")}, {}, RAW,
                            {"WTF_CSRF_SECRET_KEY": "csrf-secret"}, False, None),
    "the app's key despite WTF_CSRF_SECRET_KEY": (lambda a: {"csrf_token": _sign(a)}, {}, RAW,
                                                  {"WTF_CSRF_SECRET_KEY": "csrf-secret"}, False, None),
    "switched off": (lambda a: {}, {}, RAW, {"WTF_CSRF_ENABLED": False}, False, None),
    "not checked by default": (lambda a: {}, {}, RAW, {"WTF_CSRF_CHECK_DEFAULT": False}, False, None),
    "POST not checked": (lambda a: {}, {}, RAW, {"WTF_CSRF_METHODS": {"PUT"}}, False, None),
    "https, same origin": (lambda a: {"csrf_token": _sign(a)}, {}, RAW, {}, True, "https://lms.test/quizzes/1"),
    "https, no referrer": (lambda a: {"csrf_token": _sign(a)}, {}, RAW, {}, True, None),
    "https, another origin": (lambda a: {"csrf_token": _sign(a)}, {}, RAW, {}, True, "https://evil.test/"),
    "https, strict off": (lambda a: {"csrf_token": _sign(a)}, {}, RAW, {"WTF_CSRF_SSL_STRICT": False}, True, None),
}


def _ours_and_flask_wtfs(app, form, headers=None, raw=RAW, https=False) -> tuple[bool, bool]:
    """(`_csrf_ok`'s verdict, Flask-WTF's own check's, as the app runs it: lms/core/csrf_tokens.py's wrapper)."""
    from flask import request, session
    from flask_wtf.csrf import CSRFError

    from lms.quizzes.fast_save import _csrf_ok

    (hook,) = [hook for hook in app.before_request_funcs[None] if hook.__name__ == "checked_csrf_protect"]
    with app.test_request_context("/attempts/1/save", method="POST", data=form, headers=headers or {},
                                  base_url="https://lms.test" if https else "http://lms.test"):
        if raw is not None:
            session["csrf_token"] = raw
        ours = _csrf_ok(app, request, session)
        try:
            hook()
            theirs = True
        except CSRFError:
            theirs = False
    return ours, theirs


@pytest.mark.parametrize("case", list(_CSRF_CASES))
def test_csrf_ok_lets_through_exactly_what_flask_wtf_lets_through(app, monkeypatch, case):
    form, headers, raw, config, https, referrer = _CSRF_CASES[case]
    for key, value in {"WTF_CSRF_ENABLED": True, "WTF_CSRF_TIME_LIMIT": 3600, **config}.items():
        monkeypatch.setitem(app.config, key, value)
    headers = {**(headers(app) if callable(headers) else headers), **({"Referer": referrer} if referrer else {})}
    ours, theirs = _ours_and_flask_wtfs(app, form(app), headers, raw, https)
    assert ours == theirs
    assert ours == (case in ("in the field", "in a prefixed field", "in X-CSRFToken", "in X-CSRF-Token, the field empty",
                             "old, no time limit", "WTF_CSRF_SECRET_KEY", "switched off", "not checked by default",
                             "POST not checked", "https, same origin", "https, strict off"))


@pytest.fixture()
def csrf_checked(app, monkeypatch):
    """CSRF on, with a time limit, no token kept yet (the same token signed in the same second by earlier tests);
    returns how many tokens were verified with itsdangerous since, by `_csrf_ok` and by Flask-WTF."""
    from lms.core import csrf_tokens

    monkeypatch.delitem(app.extensions, "lms_csrf_verified", raising=False)  # put back after the test
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    monkeypatch.setitem(app.config, "WTF_CSRF_TIME_LIMIT", 3600)
    verified, real = [], URLSafeTimedSerializer.loads
    monkeypatch.setattr(csrf_tokens.URLSafeTimedSerializer, "loads",
                        lambda self, *args, **kwargs: verified.append(1) or real(self, *args, **kwargs))
    return lambda: len(verified)


def test_a_token_verified_once_is_not_verified_again(app, csrf_checked):
    token = _sign(app)
    assert [_ours_and_flask_wtfs(app, {"csrf_token": token}) for _ in range(3)] == [(True, True)] * 3
    assert csrf_checked() == 1 + 3  # ours once, Flask-WTF's every time


def test_a_token_that_fails_verification_is_not_kept(app, csrf_checked):
    tampered = _sign(app)[:-2] + "xx"
    assert [_ours_and_flask_wtfs(app, {"csrf_token": tampered}) for _ in range(2)] == [(False, False)] * 2
    assert csrf_checked() == 2 + 2


def test_a_kept_token_past_the_time_limit_is_refused(app, csrf_checked, monkeypatch):
    """Its age is checked at every use, as itsdangerous checks it: the clock moved past the time limit."""
    from types import SimpleNamespace

    import itsdangerous.timed

    from lms.core import csrf_tokens

    token, now = _sign(app), time.time()
    assert _ours_and_flask_wtfs(app, {"csrf_token": token}) == (True, True)
    for seconds, verdict in ((3600, True), (3601, False), (-1, False)):
        clock = SimpleNamespace(time=lambda seconds=seconds: now + seconds)
        monkeypatch.setattr(csrf_tokens, "time", clock)
        monkeypatch.setattr(itsdangerous.timed, "time", clock)  # Flask-WTF's clock too
        assert _ours_and_flask_wtfs(app, {"csrf_token": token}) == (verdict, verdict), seconds
    assert csrf_checked() == 1 + 4  # ours from what it kept


def test_a_kept_token_with_another_sessions_raw_token_is_refused(app, csrf_checked):
    token = _sign(app)
    assert _ours_and_flask_wtfs(app, {"csrf_token": token}) == (True, True)
    assert _ours_and_flask_wtfs(app, {"csrf_token": token}, raw="f" * 40) == (False, False)
    assert _ours_and_flask_wtfs(app, {"csrf_token": token}, raw=None) == (False, False)


def test_a_token_kept_under_a_rotated_key_is_refused(app, csrf_checked, monkeypatch):
    token = _sign(app)
    assert _ours_and_flask_wtfs(app, {"csrf_token": token}) == (True, True)
    monkeypatch.setattr(app, "secret_key", "a-new-secret-key-after-rotation")
    assert _ours_and_flask_wtfs(app, {"csrf_token": token}) == (False, False)
    assert _ours_and_flask_wtfs(app, {"csrf_token": _sign(app)}) == (True, True)
    monkeypatch.setitem(app.config, "WTF_CSRF_SECRET_KEY", "a-csrf-only-key")
    assert _ours_and_flask_wtfs(app, {"csrf_token": _sign(app)}) == (False, False)


def test_kept_tokens_are_bounded(app, csrf_checked, monkeypatch):
    from lms.core import csrf_tokens

    monkeypatch.setattr(csrf_tokens, "_MAX_VERIFIED", 2)
    tokens = [_sign(app, raw=f"{n:040}") for n in range(3)]
    for n, token in enumerate(tokens):
        assert _ours_and_flask_wtfs(app, {"csrf_token": token}, raw=f"{n:040}") == (True, True)
    assert len(app.extensions["lms_csrf_verified"]) == 2


def _decoded(response) -> bytes:
    import gzip

    import brotli

    coder = {"gzip": gzip.decompress, "br": brotli.decompress, None: bytes}[response.headers.get("Content-Encoding")]
    return coder(response.get_data())


@pytest.mark.parametrize("accept", ["", "gzip", "br", "gzip, br", "br;q=0.5, gzip", "gzip;q=0, br;q=0",
                                    "identity", "*", "deflate", "zstd, gzip", "GZIP;q=0.8, identity;q=0.9"])
@pytest.mark.parametrize("size", [10, 2000])
def test_compress_gives_what_flask_compress_gives(app, accept, size):
    """The same headers and, decoded, the same body (gzip stamps the time: the bytes may differ by it)."""
    from flask import request

    from lms.core.below_flask import compress as _compress
    from lms.extensions import compress

    payload = {"saved": [1, 2], "closed": [], "answers": {"1": {"state": "saved", "version": 1000}}, "pad": "x" * size}
    with app.test_request_context("/attempts/1/save", method="POST", headers={"Accept-Encoding": accept}):
        ours = app.json.response(payload)
        _compress(app, request, ours)
        theirs = compress.after_request(app.json.response(payload))
    assert sorted(ours.headers.items()) == sorted(theirs.headers.items())
    assert _decoded(ours) == _decoded(theirs) == app.json.response(payload).get_data()
