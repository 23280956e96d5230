"""Finding 5, in detail: what the input layer does with each kind of bad value (the every-route
test proves no 5xx; these say what the person gets instead)."""

import pytest

from tests.conftest import text_of


@pytest.mark.parametrize("target", ["/my\r\nSet-Cookie: x=1", "/my\x00", "/\t/evil.example", "/my\x0b"])
def test_next_with_a_control_character_is_not_followed(client, create_user, target):
    user = create_user()
    response = client.post("/login", query_string={"next": target}, data={"login": user.email, "password": "mat-khau-123"})
    assert response.status_code == 302
    assert response.headers["Location"] in ("/my", "http://lms.test/my")
    assert "Set-Cookie: x" not in str(response.headers)


@pytest.mark.parametrize("path", ["/courses/x%00y", "/courses/" + "x" * 401, "/attempts/1180591620717411303424",
                                  "/attempts/0", "/certificates/files/a%0Ab"])
def test_bad_path_arguments_are_not_found(client, path):
    client.post("/language", data={"lang": "en"})
    response = client.get(path)
    assert response.status_code == 404 and "We could not find this page" in text_of(response)


def test_nul_and_control_characters_never_reach_the_database(client, create_user, login, db_session):
    user = create_user()
    login(user)
    response = client.post("/profile", data={"position": "Chuyên\x00 viên\x07 phòng\tVH"})
    assert response.status_code == 302
    db_session.refresh(user)
    assert user.position == "Chuyên viên phòng VH"


def test_numbers_beyond_an_id_give_the_default(app):
    from flask import request

    from lms.core import inputs

    with app.test_request_context("/?page=1180591620717411303424&year=-99999999999&course=12"):
        assert inputs.page_number() == 1
        assert request.args.get("year", 2026, type=int) == 2026
        assert request.args.get("course", type=int) == 12
    with app.test_request_context("/", method="POST", data={"answer_id": "1180591620717411303424", "id": "7"}):
        assert inputs.form_id("answer_id") is None and inputs.form_id("id") == 7
