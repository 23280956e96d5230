"""The stylesheet inlined on a first visit (issue 16, "Slow 3G" cold; lms/core/inline_style.py): the CSP
hash is the hash of the bytes sent, the font URLs work from any page, and a browser with the cookie gets
the fingerprinted stylesheet linked instead."""

import base64
import hashlib
import re

from lms.core import inline_style
from tests.core.test_core import _directives

STYLE = re.compile(r"<style>(.*?)</style>", re.S)
LINK = re.compile(r'<link rel="stylesheet" href="(/static/css/app\.([0-9a-f]{12})\.css)">')


def test_a_first_visit_gets_the_stylesheet_inline_allowed_by_its_hash_and_the_cookie(app, client):
    response = client.get("/courses")
    html = response.get_data(as_text=True)
    styles = STYLE.findall(html)
    assert len(styles) == 1 and not LINK.search(html)
    sent = styles[0]
    digest = "'sha256-" + base64.b64encode(hashlib.sha256(sent.encode("utf-8")).digest()).decode() + "'"
    policy = _directives(response.headers["Content-Security-Policy"])
    assert policy["style-src"] == ["'self'", digest]
    assert not any("unsafe" in source for source in policy["style-src"])

    # The exact bytes of the built stylesheet, its font URLs made absolute (they are read against the page).
    hashed = app.extensions["static_manifest"]["css/app.css"]
    served = client.get(f"/static/{hashed}").get_data(as_text=True)
    fonts = re.findall(r"url\(([^)]+\.woff2)\)", sent)
    assert len(fonts) == 2 and all(url.startswith("/static/fonts/be-vietnam-pro-vi-") for url in fonts)
    assert all(client.get(url).status_code == 200 for url in fonts)
    assert sent == served.replace("url(../fonts/", "url(/static/fonts/")
    # Put in the HTTP cache after the page loaded, and the cookie says so to the next request.
    assert f'<link rel="prefetch" href="/static/{hashed}">' in html
    fingerprint = hashed.split(".")[-2]
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{inline_style.COOKIE}=")]
    assert cookie.startswith(f"{inline_style.COOKIE}={fingerprint};") and "HttpOnly" in cookie and "Max-Age=" in cookie


def test_a_visitor_with_the_cookie_gets_the_stylesheet_linked(app, client):
    client.get("/courses")  # sets the cookie
    response = client.get("/courses")
    html = response.get_data(as_text=True)
    link = LINK.search(html)
    assert link and "<style>" not in html and "rel=\"prefetch\"" not in html
    assert not any(c.startswith(f"{inline_style.COOKIE}=") for c in response.headers.getlist("Set-Cookie"))
    assert client.get(link.group(1)).status_code == 200

    # A cookie naming an older stylesheet is a first visit again.
    client.set_cookie(inline_style.COOKIE, "000000000000", domain=app.config["SERVER_NAME"])
    html = client.get("/courses").get_data(as_text=True)
    assert len(STYLE.findall(html)) == 1 and not LINK.search(html)


def test_the_inline_copy_is_the_same_for_everyone_and_follows_the_script_root(app, client, create_user, login):
    first = STYLE.findall(client.get("/courses").get_data(as_text=True))
    client.delete_cookie(inline_style.COOKIE, domain=app.config["SERVER_NAME"])
    login(create_user("Trần Thị Học"))
    client.delete_cookie(inline_style.COOKIE, domain=app.config["SERVER_NAME"])
    second = STYLE.findall(client.get("/courses").get_data(as_text=True))
    assert first == second and len(first) == 1
    # Mounted under a prefix, the font URLs (and so the hash) follow it; the policy names that hash.
    client.delete_cookie(inline_style.COOKIE, domain=app.config["SERVER_NAME"])
    response = client.get("/courses", environ_overrides={"SCRIPT_NAME": "/hoc"})
    sent = STYLE.findall(response.get_data(as_text=True))
    assert len(sent) == 1 and "url(/hoc/static/fonts/" in sent[0] and "url(/static/" not in sent[0]
    digest = "'sha256-" + base64.b64encode(hashlib.sha256(sent[0].encode()).digest()).decode() + "'"
    assert digest in response.headers["Content-Security-Policy"] and sent != first
