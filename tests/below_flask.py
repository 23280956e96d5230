"""Helpers of the tests that compare an answer made in front of Flask (lms/core/fast_pages.py) with Flask's own."""

from lms.core import fast_pages

REQUEST_ID = "fast-pages-0001"


def both(client, monkeypatch, url, **headers):
    """(the answer as served, Flask's answer to the same request)."""
    headers.setdefault("X-Request-ID", REQUEST_ID)
    served = client.get(url, headers=headers)
    with monkeypatch.context() as patch:
        patch.setattr(fast_pages, "_ROUTES", [])
        flasks = client.get(url, headers=headers)
    return served, flasks


def headers(response) -> list:
    """The headers in order; a Date (Flask-Compress's conditional answer) by its presence: the second may turn."""
    return [(name, "(a date)" if name == "Date" and value.endswith(" GMT") else value)
            for name, value in response.headers.to_wsgi_list()]


def assert_same(served, flasks):
    assert served.status_code == flasks.status_code
    assert headers(served) == headers(flasks)
    assert served.get_data() == flasks.get_data()
