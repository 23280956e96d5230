"""Issue 12 follow-up: JSON bodies go through the same input layer as forms. NUL or another control
character in a string or key, an integer beyond JSON's safe range, nesting past 20 levels, or a body
that is not JSON is a 400 with a message saying which — in the person's language — never a 500."""

import json

import pytest

from lms.core.inputs import json_problem


@pytest.fixture()
def author(client, login, create_user):
    login(create_user("Tác Giả", roles=("trainer",)))
    return client


def _preview(client, body, lang="en"):
    with client.session_transaction() as session:
        session["lang"] = lang
    return client.post("/author/preview.json", data=body if isinstance(body, str) else json.dumps(body),
                       content_type="application/json", headers={"Accept": "application/json"})


def test_a_clean_body_is_previewed(author):
    answer = _preview(author, {"markdown": "# Xin chào\n\nDòng\tcó tab", "depth": 1})
    assert answer.status_code == 200 and "<h1" in answer.get_json()["html"]


@pytest.mark.parametrize("body, message", [
    ({"markdown": "a\u0000b"}, "contains a control character"),
    ({"markdown": "ok", "slug\u0007": "x"}, "contains a control character"),
    ({"markdown": "ok", "depth": 2**70}, "too large"),
    ({"markdown": "ok", "depth": -(2**64)}, "too large"),
    ({"markdown": "ok", "module": json.loads("[" * 30 + "]" * 30)}, "nested too deeply"),
])
def test_bad_json_is_a_400_that_says_why(author, body, message):
    answer = _preview(author, body)
    assert answer.status_code == 400 and message in answer.get_json()["message"], answer.get_data(as_text=True)


def test_the_message_is_vietnamese_by_default(author):
    answer = _preview(author, {"markdown": "a\u0000b"}, lang="vi")
    assert answer.status_code == 400 and "ký tự điều khiển" in answer.get_json()["message"]


def test_a_body_that_is_not_json_is_no_server_error(author):
    # The preview reads with silent=True: not-JSON means "no JSON", the form value is used instead.
    answer = _preview(author, '{"markdown": "a\x00b", ')
    assert answer.status_code == 200 and answer.get_json()["html"] == ""


def test_the_checker_itself():
    assert json_problem({"a": [1, 2.5, None, True, "x\ny\tz"], "b": 2**53 - 1}) is None
    assert json_problem(2**53) and json_problem(["\x7f"]) and json_problem({"k\x00": 1})
