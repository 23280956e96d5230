"""Rendering: an XSS corpus through lessons, front matter and quiz text; media players; iframe
allowlist; re-rendering when the renderer version changes."""

import base64
import hashlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select, update

from lms.catalog.models import Lesson
from lms.catalog.operations import import_course, rerender_stale
from lms.catalog.queries import course_by_slug
from lms.catalog.source import read_course
from lms.core import markdown
from lms.core.markdown import RENDERER_VERSION, render
from lms.offline import REGISTRATION
from lms.quizzes.models import Quiz

XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="https://evil.example/a.png" onerror="alert(1)" onload=alert(2)>',
    "[bấm](javascript:alert(1))",
    "[bấm](JaVaScRiPt:alert(1))",
    "[bấm]( javascript:alert(1))",
    "[dữ liệu](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![ảnh](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    "<svg onload=alert(1)><script>alert(2)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="0" y="10">x</text></a></svg>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '<iframe src="https://evil.example/"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<div style="background:url(javascript:alert(1))" onclick="alert(1)">x</div>',
    '<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/x.swf">',
    '<form action="javascript:alert(1)"><button formaction="javascript:alert(1)">x</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)"><base href="https://evil.example/">',
    '<link rel="stylesheet" href="https://evil.example/x.css"><style>body{display:none}</style>',
    '<a href="https://ok.example" <script>alert(1)</script>',
    "<<script>script>alert(1)<</script>/script>",
    '<img """><script>alert(1)</script>">',
    '<video src="https://evil.example/v.mp4" onplay="alert(1)" poster="javascript:alert(1)"></video>',
    '<details open ontoggle="alert(1)"><summary>x</summary></details>',
    "<!--<script>alert(1)</script>-->",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
]

_OWN_TAGS = {"script", "link", "meta"}  # base.html's own, checked below
_FORBIDDEN_TAGS = {"iframe", "object", "embed", "svg", "math", "style", "base", "frame", "frameset", "applet", "noscript"}


class _Scanner(HTMLParser):
    def __init__(self, style_hashes=()):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self._inline_script = None
        self._style_hashes = set(style_hashes)  # the site's own stylesheet inline (first visit), by its CSP hash
        self._inline_style = None

    def handle_data(self, data):
        if self._inline_script is not None:
            self._inline_script += data
        if self._inline_style is not None:
            self._inline_style += data

    def handle_endtag(self, tag):
        if tag == "script" and self._inline_script is not None:
            if self._inline_script != REGISTRATION:
                self.problems.append("inline or foreign <script>")
            self._inline_script = None
        if tag == "style" and self._inline_style is not None:
            digest = "'sha256-" + base64.b64encode(hashlib.sha256(self._inline_style.encode()).digest()).decode() + "'"
            if digest not in self._style_hashes:
                self.problems.append("<style>")
            self._style_hashes.discard(digest)  # once
            self._inline_style = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "style" and not attrs and self._style_hashes and self._inline_style is None:
            self._inline_style = ""  # judged by its text: only the stylesheet the policy names by its hash
        elif tag in _FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}>")
        if tag == "script" and not attributes and self._inline_script is None:
            self._inline_script = ""  # judged by its text: only the layout's service-worker registration may run
        elif tag == "script" and not (attributes.get("src") or "").startswith("/static/"):
            self.problems.append("inline or foreign <script>")
        href = attributes.get("href") or ""
        # The site's own icon is inlined (lms.core.assets): a data: SVG, not a page's content.
        own_icon = attributes.get("rel") == "icon" and href.startswith("data:image/svg+xml,")
        own_manifest = attributes.get("rel") == "manifest" and href == "/manifest.webmanifest"
        if tag == "link" and not (href.startswith("/static/") or own_icon or own_manifest):
            self.problems.append("foreign <link>")
        if tag == "meta" and "http-equiv" in attributes:
            self.problems.append("<meta http-equiv>")
        if tag == "form" and (attributes.get("action") or "").strip().lower().startswith(("javascript", "data")):
            self.problems.append("form to javascript:")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "srcdoc", "formaction", "xlink:href"):
                self.problems.append(f"{tag}[{name}]")
            if name in ("href", "src", "poster", "action", "data") and value and not (own_icon and name == "href"):
                cleaned = "".join(ch for ch in value if ch > " ").lower()
                if cleaned.startswith(("javascript:", "data:", "vbscript:")):
                    self.problems.append(f"{tag}[{name}={value}]")


def executable_bits(html: str, style_hashes=()) -> list[str]:
    scanner = _Scanner(style_hashes)
    scanner.feed(html)
    return scanner.problems


def test_the_scanner_catches_what_it_should():
    assert executable_bits("<p onclick=x>") and executable_bits('<a href=" JAVASCRIPT:x">') and executable_bits("<svg>")
    assert executable_bits("<script>x</script>") and not executable_bits('<script src="/static/js/a.js"></script>')
    assert not executable_bits(f"<script>{REGISTRATION}</script>") and executable_bits(f"<script>{REGISTRATION};x()</script>")
    own = "'sha256-" + base64.b64encode(hashlib.sha256(b"p{}").digest()).decode() + "'"
    assert not executable_bits("<style>p{}</style>", [own]) and executable_bits("<style>p{}</style><style>p{}</style>", [own])
    assert executable_bits("<style>q{}</style>", [own]) and executable_bits("<style>p{}</style>")


@pytest.mark.parametrize("payload", XSS)
def test_renderer_leaves_nothing_executable(payload):
    assert executable_bits(render(payload)) == []
    assert executable_bits(render(f"- [x] {payload}\n\n> {payload}\n\n| a |\n|---|\n| {payload} |")) == []


def _xss_course(root: Path) -> Path:
    folder = root / "xss-course"
    (folder / "01-chuong").mkdir(parents=True)
    corpus = "\n\n".join(XSS)
    quoted = '"' + "<script>alert(1)</script><img src=x onerror=alert(1)>" + '"'
    (folder / "course.md").write_text(f"---\ntitle: {quoted}\ncode: XSS-1\ntags: [{quoted}]\n---\n{corpus}\n", encoding="utf-8")
    (folder / "01-chuong" / "module.md").write_text(f"---\ntitle: {quoted}\n---\n{corpus}\n", encoding="utf-8")
    (folder / "01-chuong" / "01-bai.md").write_text(f"---\ntitle: {quoted}\n---\n{corpus}\n", encoding="utf-8")
    questions = "\n".join(
        f"## Câu {i} {payload}\ntype: single\n- [x] {payload}\n- [ ] <b onmouseover=alert(1)>không</b>\n> {payload}\n"
        for i, payload in enumerate(XSS))
    (folder / "01-chuong" / "quiz.md").write_text(f"---\ntitle: {quoted}\n---\n{questions}", encoding="utf-8")
    return folder


def test_xss_corpus_through_lessons_front_matter_and_quizzes_leaves_pages_clean(
        client, db_session, tmp_path, create_user, login):
    folder = _xss_course(tmp_path)
    assert import_course(read_course(folder)) == "created"
    course = course_by_slug("xss-course")
    lesson = course.active_lessons()[0]
    quiz = db_session.scalar(select(Quiz).where(Quiz.course_id == course.id))
    user = create_user()
    login(user)
    client.post(f"/courses/{course.slug}/enrol")

    pages = {
        "catalogue": client.get("/courses"),
        "course": client.get(f"/courses/{course.slug}"),
        "lesson": client.get(f"/courses/{course.slug}/lessons/{lesson.id}"),
        "quiz": client.get(f"/quizzes/{quiz.id}"),
    }
    for name, response in pages.items():
        html = response.get_data(as_text=True)
        assert response.status_code == 200, name
        style_src = next(d for d in response.headers["Content-Security-Policy"].split(";") if "style-src" in d)
        assert executable_bits(html, style_src.split()[2:]) == [], name
    # The text itself survives, escaped: trainers see what they wrote rather than nothing.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages["lesson"].get_data(as_text=True)
    assert len(quiz.active_questions()) == len(XSS)


def test_audio_and_video_written_as_images_become_players(course_copy, db_session):
    folder = course_copy()
    (folder / "assets" / "bai-nghe.mp3").write_bytes(b"ID3fake")
    (folder / "assets" / "huong-dan.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    (folder / "01-bai-mo-dau" / "02-dang-nhap.md").write_text(
        "---\ntitle: Đăng nhập\n---\n![Bài nghe](../assets/bai-nghe.mp3)\n\n![Video hướng dẫn](../assets/huong-dan.mp4)\n",
        encoding="utf-8")
    import_course(read_course(folder))
    lesson = course_by_slug("mini-course").active_lessons()[1]

    player = ('<audio controls="" preload="metadata" src="/courses/mini-course/assets/bai-nghe.mp3">'
              '<a href="/courses/mini-course/assets/bai-nghe.mp3" rel="noopener noreferrer">Bài nghe</a></audio>')
    assert player in lesson.body_html
    assert '<video controls="" preload="metadata" src="/courses/mini-course/assets/huong-dan.mp4">' in lesson.body_html


@pytest.mark.parametrize(("name", "mimetype"), [("so-do.svg", "image/svg+xml"), ("bai-nghe.mp3", "audio/mpeg"),
                                                 ("huong-dan.mp4", "video/mp4"), ("tai-lieu.pdf", "application/pdf")])
def test_assets_are_served_with_their_type(client, course_copy, db_session, name, mimetype):
    folder = course_copy()
    if name != "so-do.svg":
        (folder / "assets" / name).write_bytes(b"data")
    import_course(read_course(folder))
    response = client.get(f"/courses/mini-course/assets/{name}")
    assert response.status_code == 200 and response.mimetype == mimetype
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_iframes_only_from_allowed_hosts(app, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_IFRAME_HOSTS", ("www.youtube-nocookie.com",))
    with app.app_context():
        allowed = render('<iframe src="https://www.youtube-nocookie.com/embed/abc"></iframe>')
        other = render('<iframe src="https://evil.example/embed/abc"></iframe>')
        plain_http = render('<iframe src="http://www.youtube-nocookie.com/embed/abc"></iframe>')
    assert 'src="https://www.youtube-nocookie.com/embed/abc"' in allowed
    assert "evil.example" not in other and "src=" not in plain_http


def test_iframe_hosts_come_from_the_environment_and_the_csp(monkeypatch, tmp_path):
    from lms import create_app

    monkeypatch.setenv("LMS_IFRAME_HOSTS", "www.youtube-nocookie.com, Player.Vimeo.com")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "SECRET_KEY": "k"})
    assert app.config["LMS_IFRAME_HOSTS"] == ("www.youtube-nocookie.com", "player.vimeo.com")
    response = app.test_client().get("/healthz")
    policy = response.headers["Content-Security-Policy"]
    assert "frame-src 'self' https://www.youtube-nocookie.com https://player.vimeo.com;" in policy


def test_stale_renderer_version_is_re_rendered_once_not_per_request(create_course, db_session, monkeypatch, client):
    course = create_course()
    db_session.execute(update(Lesson).where(Lesson.course_id == course.id).values(body_html="<p>cũ</p>", renderer_version=1))
    db_session.expire_all()
    assert rerender_stale() == 2
    lesson = db_session.scalar(select(Lesson).where(Lesson.course_id == course.id).order_by(Lesson.position))
    assert lesson.renderer_version == RENDERER_VERSION and "Xin chào" in lesson.body_html
    assert rerender_stale() == 0  # nothing left to do

    calls = []
    monkeypatch.setattr(markdown.md, "markdown", lambda *a, **k: calls.append(a) or "")
    page = client.get(f"/courses/{course.slug}/lessons/{lesson.id}")
    assert "Xin chào" in page.get_data(as_text=True) and calls == []  # pages show the stored HTML


def test_links_between_lessons_survive_renumbering_and_rerendering(client, course_copy, db_session, app):
    folder = course_copy()
    lesson_file = folder / "01-bai-mo-dau" / "01-gioi-thieu.md"
    lesson_file.write_text("---\ntitle: Giới thiệu\n---\n[Bài sau](02-dang-nhap.md#buoc-1) · [cũ số](07-dang-nhap.md)\n",
                           encoding="utf-8")
    errors = []
    read_course(folder, errors)
    assert errors == []  # a renumbered name still matches the lesson
    import_course(read_course(folder))
    course = course_by_slug("mini-course")
    first, second = course.active_lessons()
    assert 'href="/courses/mini-course/lessons/key/dang-nhap-vneid#buoc-1"' in first.body_html
    assert 'href="/courses/mini-course/lessons/key/dang-nhap-vneid"' in first.body_html

    response = client.get("/courses/mini-course/lessons/key/dang-nhap-vneid")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/courses/mini-course/lessons/{second.id}")
    assert client.get("/courses/mini-course/lessons/key/khong-co").status_code == 404

    db_session.execute(update(Lesson).where(Lesson.id == first.id).values(renderer_version=0))
    db_session.expire_all()
    rerender_stale()
    assert 'href="/courses/mini-course/lessons/key/dang-nhap-vneid#buoc-1"' in db_session.get(Lesson, first.id).body_html


def test_a_link_to_a_missing_lesson_is_reported(course_copy):
    folder = course_copy()
    (folder / "01-bai-mo-dau" / "01-gioi-thieu.md").write_text("---\ntitle: G\n---\n\n[x](03-khong-co.md)\n", encoding="utf-8")
    errors = []
    read_course(folder, errors)
    assert [(e.line, e.message.split(":")[0]) for e in errors] == [(5, "broken link `03-khong-co.md`")]
