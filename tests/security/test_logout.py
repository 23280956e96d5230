"""Finding 3: logging out ends the session on the server, not only in the browser that logged out."""

import http.cookiejar

from tests.webclient import WebClient

LEARNER = ("hocvien@demo.vn", "hocvien-demo-2025")


def _copy_cookies(source: WebClient, target: WebClient) -> None:
    for cookie in source.jar:
        target.jar.set_cookie(http.cookiejar.Cookie(**{
            name: getattr(cookie, name) for name in (
                "version", "name", "value", "port", "port_specified", "domain", "domain_specified",
                "domain_initial_dot", "path", "path_specified", "secure", "expires", "discard", "comment",
                "comment_url")}, rest=cookie._rest))


def test_a_cookie_copied_before_logout_no_longer_opens_my_learning(live_server):
    person = WebClient(live_server.base)
    person.login(*LEARNER)
    assert person.get("/my").status == 200
    thief = WebClient(live_server.base)
    _copy_cookies(person, thief)
    mine = thief.get("/my")
    assert mine.status == 200 and "Nguyễn Thị Lan" in mine.text  # the copy works while the session lives

    person.get("/")
    assert "/login" not in person.post("/logout").url
    assert "/login" in person.get("/my").url  # the browser that logged out is out

    after = thief.get("/my")  # redirects are followed: a refused session lands on the log-in page
    assert "/login" in after.url
    assert "Nguyễn Thị Lan" not in after.text
    # Logging in again works, and the new session is not the old one.
    person.login(*LEARNER)
    assert person.get("/my").status == 200
    assert "/login" in thief.get("/my").url


def test_a_role_change_and_a_password_change_end_the_open_sessions(client, login, create_user, db_session):
    from lms.accounts import operations

    user = create_user()
    login(user)
    assert client.get("/my").status_code == 200
    operations.grant_role(user, "trainer")
    db_session.commit()
    assert "/login" in client.get("/my").headers["Location"]
    login(user)
    operations.change_password(user, "mot-mat-khau-moi-dai")
    db_session.commit()
    assert "/login" in client.get("/my").headers["Location"]
