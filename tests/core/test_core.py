"""Shared pieces: health check, configuration, error pages, security headers, text folding, safe Markdown."""

import re
import stat
import subprocess
import unicodedata
from html.parser import HTMLParser

import pytest
from babel.support import Translations

from lms import create_app
from lms.config import ConfigError, load_config
from lms.core.markdown import render, render_inline
from lms.core.text import fold, nfc, slugify
from lms.offline import REGISTRATION, REGISTRATION_HASH
from tests.conftest import ROOT, text_of
from tests.cookies import sign_in

NOT_FOUND = "We could not find this page. It may have been moved or removed."
SERVER_ERROR = "Something went wrong on our side. Your saved work is safe; please try again in a moment."


# ---------------------------------------------------------------- health check

def test_healthz_reports_database_and_eager_queue(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.is_json
    body = response.get_json()
    assert {k: body[k] for k in ("status", "database", "queue", "signing")} == {
        "status": "ok", "database": "ok", "queue": "eager", "signing": "ok"}
    assert body["outbox"]["open"] == 0 and body["outbox"]["failed"] == 0


def test_healthz_reports_a_dead_database_without_a_traceback(dead_db_app):
    response = dead_db_app.test_client().get("/healthz")
    assert response.status_code == 503 and response.is_json
    assert response.get_json() == {"status": "error", "database": "error", "queue": "eager", "signing": "ok"}
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_page_needing_a_dead_database_shows_the_error_page(dead_db_app):
    response = dead_db_app.test_client().get("/courses", headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    # Unavailable, not broken: 503 with a hint when to come back, in the layout, without the database.
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert 'class="site-header"' in page and "Traceback" not in page and "psycopg" not in page
    assert "Dịch vụ tạm thời" in page or "temporarily unavailable" in page


def test_the_error_page_speaks_the_session_language_and_json_without_the_database(dead_db_app):
    client = dead_db_app.test_client()
    with client.session_transaction() as session:
        session["lang"] = "en"
        # A logged-in person (with a session record key: without one, no lookup at all), whose account
        # cannot be loaded either.
        sign_in(session, 1, 0, "a-session-record-key")
    page = client.get("/my").get_data(as_text=True)
    assert "The service is temporarily unavailable" in page and "Log in" in page
    response = client.post("/attempts/1/save", headers={"Accept": "application/json"}, json={})
    assert response.status_code == 503 and response.is_json
    assert response.get_json()["message"] == "The service is temporarily unavailable. Please try again in a moment."


# ---------------------------------------------------------------- configuration

@pytest.fixture()
def environment(monkeypatch, tmp_path):
    for name in ("DATABASE_URL", "SECRET_KEY", "CELERY_BROKER_URL", "CELERY_EAGER", "LMS_BASE_URL", "LMS_DEMO"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    return monkeypatch


@pytest.mark.parametrize("secret", [None, "", "   ", "change-me", "CHANGEME", " dev ", "secret", "development"])
def test_production_config_refuses_a_missing_or_placeholder_secret(environment, tmp_path, secret):
    environment.setenv("DATABASE_URL", "postgresql://lms@db/lms")
    if secret is not None:
        environment.setenv("SECRET_KEY", secret)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(str(tmp_path))
    with pytest.raises(ConfigError):
        create_app()
    assert not (tmp_path / "secret_key").exists()


def test_production_config_with_a_real_secret(environment, tmp_path):
    environment.setenv("DATABASE_URL", "postgres://lms:pw@db:5432/lms")
    environment.setenv("SECRET_KEY", "k" * 48)
    environment.setenv("CELERY_BROKER_URL", "redis://redis:6379/0")
    config = load_config(str(tmp_path))
    assert config["SECRET_KEY"] == "k" * 48 and config["LMS_EMBEDDED"] is False
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://lms:pw@db:5432/lms"
    assert config["CELERY"]["task_always_eager"] is False and config["CELERY"]["broker_url"] == "redis://redis:6379/0"
    # The recovery bounds keep their defaults unless set (docs/operations.md).
    assert (config["LMS_OUTBOX_LEASE_SECONDS"], config["LMS_OUTBOX_START_SECONDS"]) == (120, 90)
    assert config["CELERY"]["beat_schedule"]["reconcile-outbox"]["schedule"] == 20
    assert config["CELERY"]["broker_transport_options"]["visibility_timeout"] == 300
    assert config["LMS_DEMO"] is False


def test_the_recovery_bounds_are_settings(environment, tmp_path):
    """The fault suite shortens them; a deployment may trade recovery time against needless re-sends."""
    environment.setenv("LMS_OUTBOX_START_SECONDS", "6")
    environment.setenv("LMS_OUTBOX_RECONCILE_SECONDS", "2")
    environment.setenv("LMS_BROKER_VISIBILITY_SECONDS", "60")
    config = load_config(str(tmp_path))
    assert config["LMS_OUTBOX_START_SECONDS"] == 6
    assert config["CELERY"]["beat_schedule"]["reconcile-outbox"]["schedule"] == 2
    assert config["CELERY"]["broker_transport_options"]["visibility_timeout"] == 60


def test_embedded_default_generates_and_keeps_a_private_secret(environment, tmp_path):
    config = load_config(str(tmp_path))
    key_file = tmp_path / "secret_key"
    assert config["LMS_EMBEDDED"] is True and len(config["SECRET_KEY"]) >= 48
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'lms.sqlite3'}"
    # Background work runs in the embedded runner beside the server, never inside a request (eager).
    assert config["LMS_TASK_MODE"] == "runner" and config["CELERY"]["task_always_eager"] is False
    assert config["LMS_DEMO"] is True
    assert key_file.read_text() == config["SECRET_KEY"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_config(str(tmp_path))["SECRET_KEY"] == config["SECRET_KEY"]


def test_links_follow_the_port_make_run_serves_on(environment, tmp_path):
    environment.delenv("PORT", raising=False)
    assert load_config(str(tmp_path))["LMS_BASE_URL"] == "http://127.0.0.1:5000"
    environment.setenv("PORT", "8080")  # PORT=8080 make run
    assert load_config(str(tmp_path))["LMS_BASE_URL"] == "http://127.0.0.1:8080"
    environment.setenv("LMS_BASE_URL", "https://hoctap.example.gov.vn")  # a public address wins
    assert load_config(str(tmp_path))["LMS_BASE_URL"] == "https://hoctap.example.gov.vn"


def test_session_cookies_are_http_only_same_site_and_secure_behind_https(environment, tmp_path):
    environment.setenv("LMS_BASE_URL", "https://hoc.example.vn/")
    config = load_config(str(tmp_path))
    assert config["LMS_BASE_URL"] == "https://hoc.example.vn"
    assert config["SESSION_COOKIE_HTTPONLY"] and config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]


# ---------------------------------------------------------------- error pages

def _translated(message: str) -> str:
    """The Vietnamese catalogue's text for `message` (compiled first if missing), or the English."""
    catalogue = ROOT / "lms" / "translations"
    mo = catalogue / "vi" / "LC_MESSAGES" / "messages.mo"
    if not mo.exists():
        subprocess.run([str(ROOT / ".venv" / "bin" / "pybabel"), "compile", "-q", "-d", str(catalogue)],
                       capture_output=True, check=False)
    if not mo.exists():
        return message
    with open(mo, "rb") as handle:
        return Translations(handle).gettext(message)


def test_404_page_is_in_the_site_layout_in_vietnamese_by_default(app, client):
    expected = _translated(NOT_FOUND)
    app.extensions["babel"].instance.domain_instance.cache.clear()  # the catalogue may have been compiled just now

    response = client.get("/khong-co-trang-nay")

    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert '<html lang="vi">' in page and 'class="site-header"' in page and 'class="site-footer"' in page
    assert expected in text_of(response)
    if expected != NOT_FOUND:
        assert "Không tìm thấy" in expected and NOT_FOUND not in page


def test_404_in_english_when_chosen(client):
    with client.session_transaction() as session:
        session["lang"] = "en"
    response = client.get("/khong-co-trang-nay")
    assert response.status_code == 404 and NOT_FOUND in text_of(response) and "Error 404" in text_of(response)


def test_json_clients_get_json_errors(client):
    response = client.get("/khong-co-trang-nay", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.is_json and response.get_json()["error"] == 404


def test_an_exception_in_a_view_shows_the_error_page_without_traceback(failing_app):
    client = failing_app.test_client()
    with client.session_transaction() as session:
        session["lang"] = "en"
    response = client.get("/boom")

    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert 'class="site-header"' in page and SERVER_ERROR in text_of(response) and "Error 500" in text_of(response)
    assert "kaboom" not in page and "Traceback" not in page and "RuntimeError" not in page


def test_an_exception_answers_json_clients_with_json(failing_app):
    response = failing_app.test_client().get("/boom", headers={"Accept": "application/json"})
    assert response.status_code == 500 and response.is_json
    body = response.get_json()
    assert body["error"] == 500 and body["message"] and "kaboom" not in response.get_data(as_text=True)


def test_an_exception_leaves_the_app_usable(failing_app):
    client = failing_app.test_client()
    assert client.get("/boom").status_code == 500
    assert client.get("/healthz").get_json()["database"] == "ok"


# ---------------------------------------------------------------- security headers

def _directives(csp: str) -> dict[str, list[str]]:
    parts = [part.split() for part in csp.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


@pytest.mark.parametrize("path", ["/courses", "/login", "/register", "/khong-co-trang-nay", "/healthz"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    csp = _directives(response.headers["Content-Security-Policy"])
    # Scripts are files of the site; the one inline script is the service worker's registration (issue 16),
    # allowed by its hash alone (no 'unsafe-inline'), so that registering costs no request.
    assert csp["script-src"] == ["'self'", REGISTRATION_HASH]
    assert not any("unsafe" in source for source in csp["script-src"] + csp["default-src"])
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert csp["default-src"] == ["'self'"] and csp["base-uri"] == ["'self'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/courses", "/login", "/register"])
def test_pages_have_no_inline_script_the_csp_would_block(client, path):
    page = client.get(path).get_data(as_text=True)
    page = page.replace(f"<script>{REGISTRATION}</script>", "", 1)  # allowed by its hash (see above)
    for tag in re.findall(r"<script\b[^>]*>", page):
        assert 'src="/static/' in tag
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", page)
    assert not re.search(r"\son[a-z]+\s*=", page) and "javascript:" not in page


def test_session_cookie_is_http_only_and_same_site(client, create_user):
    user = create_user()
    response = client.post("/login", data={"login": user.email, "password": "mat-khau-123"})
    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


# ---------------------------------------------------------------- text

def test_fold_matches_both_vietnamese_tone_placements_and_plain_ascii():
    old_style, new_style = "Hòa", "Hoà"
    assert old_style != new_style
    assert fold(old_style) == fold(new_style) == fold("hoa") == fold("HOA") == "hoa"
    assert fold(unicodedata.normalize("NFD", "Hoà")) == "hoa"
    assert fold("Đường") == "duong" and fold("đường") == "duong"
    assert fold("  Dịch   vụ công ") == "dich vu cong"
    assert fold(None) == "" and fold("") == ""


def test_nfc_normalises_and_collapses_whitespace():
    assert nfc(unicodedata.normalize("NFD", " Trần \t Thị\nHoà ")) == "Trần Thị Hoà"
    assert unicodedata.is_normalized("NFC", nfc(unicodedata.normalize("NFD", "Nguyễn")))
    assert nfc(None) == ""
    assert slugify("Dịch vụ công trực tuyến!") == "dich-vu-cong-truc-tuyen"


# ---------------------------------------------------------------- markdown

URL_ATTRIBUTES = {"href", "src", "poster", "action", "formaction", "data", "background", "xlink:href", "srcset"}
FORBIDDEN_TAGS = {"script", "style", "object", "embed", "form", "input", "button", "svg", "math", "base", "meta",
                  "link", "frame", "frameset", "applet", "textarea", "select"}


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def elements(html: str) -> list[tuple[str, dict]]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def assert_inert(html: str, allowed_iframe_hosts=()):
    """Nothing a browser would run: no script-bearing tags, handlers, or script/data URLs."""
    for tag, attrs in elements(html):
        assert tag not in FORBIDDEN_TAGS, html
        for name, value in attrs.items():
            assert not name.startswith("on") and name not in {"style", "srcdoc", "formaction"}, html
            if name in URL_ATTRIBUTES and value:
                cleaned = re.sub(r"[\x00-\x20]", "", value).lower()
                assert not cleaned.startswith(("javascript:", "vbscript:", "data:")), html
        if tag == "iframe" and attrs.get("src"):
            assert any(attrs["src"].startswith(f"https://{host}/") for host in allowed_iframe_hosts), html


XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    '<a href="#" onclick="alert(1)">x</a>',
    '<p onmouseover="alert(1)">hover</p>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "![x](javascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    "<svg onload=alert(1)><circle r=1 /></svg>",
    "<svg><script>alert(1)</script></svg>",
    "<iframe src=https://evil.example></iframe>",
    '<iframe src="https://evil.example/" srcdoc="<script>alert(1)</script>"></iframe>',
    '<a href="  javascript:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="&#x6A;avascript&colon;alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="&#x01;javascript:alert(1)">x</a>',
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "<style>body { background: url(javascript:alert(1)) }</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<object data="https://evil.example/x.swf"></object>',
    '<embed src="https://evil.example/x.swf">',
    '<form action="https://evil.example/"><input name="p"><button>Gửi</button></form>',
    '<details open ontoggle="alert(1)"><summary>s</summary></details>',
    '<video poster="javascript:alert(1)" src="javascript:alert(1)"></video>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="https://evil.example/">',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "Đoạn văn\n{: onclick=\"alert(1)\" }",
    '[ok](https://example.vn){: onmouseover="alert(1)" }',
]


@pytest.mark.parametrize("source", XSS)
def test_markdown_leaves_nothing_executable(source):
    assert_inert(render(source))


def test_markdown_keeps_safe_links_and_text_around_removed_parts():
    html = render('Xem <a href="https://dichvucong.gov.vn/" onclick="x()">Cổng DVC</a> <script>bad()</script> nhé.')
    assert '<a href="https://dichvucong.gov.vn/" rel="noopener noreferrer">Cổng DVC</a>' in html
    assert "bad()" not in html and "onclick" not in html and "nhé." in html
    assert '<a href="mailto:hotro@example.vn"' in render("[thư](mailto:hotro@example.vn)")


def test_markdown_renders_tables_admonitions_footnotes_code_and_definitions():
    html = render(
        "| Bước | Việc |\n|---|---|\n| 1 | Đăng nhập |\n\n"
        '!!! note "Chú ý"\n    Giữ bí mật mật khẩu.\n\n'
        "Mã định danh[^1] gồm 12 số.\n\n[^1]: Số trên căn cước.\n\n"
        '```python\nprint("<b>xin chào</b>")\n```\n\n'
        "VNeID\n:   Ứng dụng định danh điện tử.\n")
    assert_inert(html)
    assert "<table>" in html and "<th>Bước</th>" in html and "<td>Đăng nhập</td>" in html
    assert '<div class="admonition note">' in html and '<p class="admonition-title">Chú ý</p>' in html
    assert 'class="footnote-ref" href="#fn:1"' in html and '<li id="fn:1">' in html and "Số trên căn cước." in html
    assert '<pre><code class="language-python">print("&lt;b&gt;xin chào&lt;/b&gt;")' in html
    assert "<dl>" in html and "<dt>VNeID</dt>" in html and "<dd>Ứng dụng định danh điện tử.</dd>" in html


def test_render_inline_drops_the_paragraph():
    assert render_inline("**Đúng** rồi") == "<strong>Đúng</strong> rồi"
    assert render_inline("<script>x()</script>**Đúng**") == "<strong>Đúng</strong>"
    assert render("Một\n\nHai").count("<p>") == render_inline("Một\n\nHai").count("<p>") == 2


def test_relative_links_are_resolved_and_script_urls_are_not(app):
    html = render("![sơ đồ](../assets/so-do.svg) [x](javascript:alert(1))",
                  resolve_link=lambda url: "/courses/c/assets/" + url.rsplit("/", 1)[-1])
    assert ("img", {"alt": "sơ đồ", "src": "/courses/c/assets/so-do.svg"}) in elements(html)
    assert_inert(html)


def test_iframe_survives_only_from_an_allowed_https_host(app, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_IFRAME_HOSTS", ["www.youtube-nocookie.com"])
    allowed = '<iframe src="https://www.youtube-nocookie.com/embed/abc" width="560" onload="x()"></iframe>'
    refused = [
        '<iframe src="https://evil.example/embed/abc"></iframe>',
        '<iframe src="http://www.youtube-nocookie.com/embed/abc"></iframe>',
        '<iframe src="https://www.youtube-nocookie.com.evil.example/embed/abc"></iframe>',
        '<iframe src="https://evil.example@www.youtube-nocookie.com.evil.example/"></iframe>',
        '<iframe src="javascript:alert(1)"></iframe>',
    ]
    with app.app_context():
        html = render(allowed)
        assert '<iframe src="https://www.youtube-nocookie.com/embed/abc" width="560"></iframe>' in html
        assert_inert(html, allowed_iframe_hosts=["www.youtube-nocookie.com"])
        for source in refused:
            html = render(source)
            assert "src=" not in html, source
            assert_inert(html)
    # Without an app (or without the setting) no iframe host is trusted.
    assert "src=" not in render(allowed)
