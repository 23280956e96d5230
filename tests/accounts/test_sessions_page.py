"""Your sessions (issue 12, OWASP ASVS 3.3.4): every log-in is a record; ending one ends its cookie."""

import re

from sqlalchemy import select

from lms.accounts.models import SessionRecord
from tests.accounts.conftest import PASSWORD
from tests.conftest import text_of

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
PHONE = ("Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/131.0.0.0 Mobile Safari/537.36")


def _log_in(client, user, agent):
    response = client.post("/login", data={"login": user.email, "password": PASSWORD},
                           headers={"User-Agent": agent}, environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert response.status_code == 302, response.get_data(as_text=True)


def _records(db_session, user):
    return list(db_session.scalars(select(SessionRecord).where(SessionRecord.user_id == user.id)
                                   .order_by(SessionRecord.id)))


def _english(client):
    with client.session_transaction() as session:
        session["lang"] = "en"


def test_two_log_ins_are_two_sessions_and_ending_one_ends_only_its_cookie(app, client, db_session, create_user):
    user = create_user()
    phone = app.test_client()
    _log_in(client, user, FIREFOX)
    _log_in(phone, user, PHONE)
    first, second = _records(db_session, user)
    assert first.key != second.key and first.ended_at is None and second.ended_at is None
    assert (first.ip, second.user_agent) == ("203.0.113.7", PHONE)

    _english(client)
    page = client.get("/profile/sessions")
    shown = text_of(page)
    assert "Firefox on Windows" in shown and "Chrome on Android" in shown and "203.0.113.7" in shown
    # "This device" is the Firefox one, and only it has no end button.
    this = re.search(r'data-session="(\d+)">\s*<h2>([^<]*)<span class="badge ok">This device', page.get_data(as_text=True))
    assert this and int(this.group(1)) == first.id and "Firefox" in this.group(2)
    assert f"/profile/sessions/{second.id}/end" in page.get_data(as_text=True)
    assert f"/profile/sessions/{first.id}/end" not in page.get_data(as_text=True)

    response = client.post(f"/profile/sessions/{second.id}/end")
    assert response.status_code == 302 and response.headers["Location"].endswith("/profile/sessions")
    db_session.refresh(second)
    assert second.ended_at is not None
    assert "/login" in phone.get("/my").headers["Location"]  # the phone's cookie opens nothing now
    assert client.get("/my").status_code == 200  # this browser carries on
    assert "Chrome on Android" not in text_of(client.get("/profile/sessions"))


def test_another_persons_session_cannot_be_ended(app, client, db_session, create_user):
    me, other = create_user(), create_user("Trần Văn Bình")
    theirs = app.test_client()
    _log_in(client, me, FIREFOX)
    _log_in(theirs, other, PHONE)
    (their_record,) = _records(db_session, other)
    assert client.post(f"/profile/sessions/{their_record.id}/end").status_code == 404
    assert client.post("/profile/sessions/999999/end").status_code == 404
    db_session.refresh(their_record)
    assert their_record.ended_at is None and theirs.get("/my").status_code == 200


def test_log_out_ends_this_record_and_the_others_stay(app, client, db_session, create_user):
    user = create_user()
    phone = app.test_client()
    _log_in(client, user, FIREFOX)
    _log_in(phone, user, PHONE)
    client.post("/logout")
    first, second = _records(db_session, user)
    assert first.ended_at is not None and second.ended_at is None
    assert phone.get("/my").status_code == 200


def test_end_every_other_session_and_a_password_change_keep_only_this_one(app, client, db_session, create_user):
    user = create_user()
    others = [app.test_client(), app.test_client()]
    _log_in(client, user, FIREFOX)
    for other in others:
        _log_in(other, user, PHONE)
    assert client.post("/profile/sessions/end-others").status_code == 302
    assert [r.ended_at is None for r in _records(db_session, user)] == [True, False, False]
    assert all("/login" in other.get("/my").headers["Location"] for other in others)
    assert client.get("/my").status_code == 200

    _log_in(others[0], user, PHONE)
    response = client.post("/profile/password", data={
        "current": PASSWORD, "password": "mot-mat-khau-moi-dai-2025", "confirm": "mot-mat-khau-moi-dai-2025"})
    assert response.status_code == 302
    live = [r for r in _records(db_session, user) if r.ended_at is None]
    assert [r.id for r in live] == [_records(db_session, user)[0].id]  # the version bump and the records agree
    assert "/login" in others[0].get("/my").headers["Location"]
    assert client.get("/my").status_code == 200


def test_last_seen_is_written_at_most_every_five_minutes(client, db_session, create_user):
    from datetime import timedelta

    user = create_user()
    _log_in(client, user, FIREFOX)
    (record,) = _records(db_session, user)
    seen = record.last_seen_at
    client.get("/my")
    db_session.refresh(record)
    assert record.last_seen_at == seen  # a request soon after writes nothing
    record.last_seen_at = seen - timedelta(minutes=6)
    db_session.flush()
    client.get("/my")
    db_session.refresh(record)
    assert record.last_seen_at > seen - timedelta(minutes=1)


def test_ending_a_session_needs_the_csrf_token(csrf_app, db_session, create_user):
    user = create_user()
    browser, phone = csrf_app.test_client(), csrf_app.test_client()
    for client in (browser, phone):
        form = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        client.post("/login", data={"login": user.email, "password": PASSWORD, "csrf_token": token})
    _, second = _records(db_session, user)
    assert browser.post(f"/profile/sessions/{second.id}/end").status_code == 400
    db_session.refresh(second)
    assert second.ended_at is None
    page = browser.get("/profile/sessions").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert browser.post(f"/profile/sessions/{second.id}/end", data={"csrf_token": token}).status_code == 302
    assert "/login" in phone.get("/my").headers["Location"]


def test_the_record_is_read_in_the_users_own_query(client, db_session, create_user, create_course):
    """No page pays for the check: the one statement touching session_records is the user loader's."""
    from tests.catalog.test_pages import statements_of

    user = create_user()
    course = create_course()
    _log_in(client, user, FIREFOX)
    client.post(f"/courses/{course.slug}/enrol")
    for url in ("/my", f"/courses/{course.slug}/lessons/{course.lessons[0].id}"):
        statements, _ = statements_of(client, url)
        touching = [s for s in statements if "session_records" in s]
        assert len(touching) == 1 and "FROM users" in touching[0], touching


def test_devices_are_named_as_people_know_them(app):
    from lms.accounts.devices import summary

    iphone = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
              "Version/17.5 Mobile/15E148 Safari/604.1")
    edge = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
            "Safari/537.36 Edg/131.0.0.0")
    coccoc = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "coc_coc_browser/135.0.180 Chrome/129.0.0.0 Safari/537.36")
    with app.test_request_context():
        assert [summary(agent) for agent in (PHONE, FIREFOX, iphone, edge, coccoc, None)] == [
            "Chrome trên Android", "Firefox trên Windows", "Safari trên iPhone", "Edge trên Windows",
            "Cốc Cốc trên Windows", "Trình duyệt không rõ"]


def test_the_hourly_sweep_deletes_sessions_ended_over_30_days_ago(app, db_session, create_user):
    from datetime import timedelta

    from lms.core.db import utcnow

    user = create_user()
    now = utcnow()
    db_session.add_all([SessionRecord(key="old", user_id=user.id, ended_at=now - timedelta(days=31)),
                        SessionRecord(key="recent", user_id=user.id, ended_at=now - timedelta(days=2)),
                        SessionRecord(key="live", user_id=user.id)])
    db_session.commit()
    app.extensions["celery"].tasks["accounts.prune_login_failures"].apply().get()
    assert [record.key for record in _records(db_session, user)] == ["recent", "live"]


def test_a_new_log_in_in_the_same_browser_replaces_its_old_session(app, client, db_session, create_user):
    """As when a digital-team member starts an assisted session (lms/community): login_user on a signed-in browser."""
    from flask import session
    from flask_login import login_user

    first, second = create_user(), create_user("Trần Văn Bình")
    _log_in(client, first, FIREFOX)
    (old,) = _records(db_session, first)
    with app.test_request_context(headers={"User-Agent": FIREFOX}):
        session["sid"] = old.key
        login_user(second)
        new_key = session["sid"]
    (new,) = _records(db_session, second)
    db_session.refresh(old)
    assert old.ended_at is not None and new.ended_at is None and new.key == new_key != old.key
