"""axe-core (0 violations) and the Nu Html Checker (0 errors) over the pages issue 16 changed, in
Vietnamese and English, as the resident and the administrator see them on a 360×800 phone, with the
menu closed and open. The checkers come from the acceptance kit (../shared/acceptance, or
LMS_ACCEPTANCE_DIR; skipped when it is absent): its a11y/ and html/ folders are copied to
build/acceptance/ and installed there with `npm ci` (the kit's folder is read-only), once.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ACCEPTANCE, ROOT
from tests.e2e.browser import PHONE, menu
from tests.e2e.servers import embedded_server
from tests.journey.live import CHROMIUM, launch

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.skipif(not ACCEPTANCE.is_dir(), reason=f"no acceptance kit at {ACCEPTANCE}"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM}"),
    pytest.mark.skipif(bool(os.environ.get("LMS_TEST_DATABASE_URL")), reason="runs in the SQLite pass"),
]

KIT = ROOT / "build" / "acceptance"
AXE = KIT / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
VNU = KIT / "html" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
ACCOUNTS = {"learner": ("hocvien@demo.vn", "hocvien-demo-2025"), "admin": ("quantri@demo.vn", "quantri-demo-2025")}
COURSE = "ky-nang-so-cong-dan"
LEARNER_PAGES = ["/courses", f"/courses/{COURSE}", "/my", "/my/certificates", "/verify", "/programs"]
ADMIN_PAGES = ["/admin/assignments/", "/admin/programs/", "/admin/imports/", "/reports"]


@pytest.fixture(scope="module")
def kit():
    for part, installed in (("a11y", AXE), ("html", VNU)):
        if installed.exists():
            continue
        target = KIT / part
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(ACCEPTANCE / part, target)
        for path in [target, *target.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=target, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0 and installed.exists(), f"npm ci in {target}: {done.stdout}{done.stderr}"
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def server():
    with embedded_server() as live:
        yield live


def phone(browser, base, who, language):
    context = browser.new_context(viewport=PHONE, base_url=base, locale="vi-VN", is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=login]", ACCOUNTS[who][0])
    page.fill("input[name=password]", ACCOUNTS[who][1])
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")
    if language != "vi":
        with page.expect_navigation():
            page.click(f".lang-form button[value={language}]")
    return page


def axe_violations(page, axe_source) -> list:
    page.evaluate(axe_source)
    results = page.evaluate("axe.run(document)")
    return [f"{v['id']}: {v['help']} ({[n['target'] for n in v['nodes']][:3]})" for v in results["violations"]]


def pages_of(page) -> list[str]:
    page.goto(f"/courses/{COURSE}")
    lessons = [a.get_attribute("href") for a in page.query_selector_all("ol.lesson-list a[href*='/lessons/']")]
    quiz = page.get_attribute("a[href^='/quizzes/']", "href")
    return LEARNER_PAGES + [lessons[0], lessons[-1], quiz]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_axe_and_nu_find_nothing(kit, server, tmp_path, language):
    problems, html_files = [], []
    with playwright.sync_playwright() as driver:
        browser = launch(driver)
        for who in ("learner", "admin"):
            page = phone(browser, server.base, who, language)
            urls = pages_of(page) if who == "learner" else ADMIN_PAGES
            for url in urls:
                response = page.goto(url)
                assert response.ok, url
                problems += [f"{who} {url}: {v}" for v in axe_violations(page, kit)]
                menu(page)
                problems += [f"{who} {url} (menu open): {v}" for v in axe_violations(page, kit)]
                html = page.context.request.get(url).text()
                html_files.append(tmp_path / f"{who}-{len(html_files)}.html")
                html_files[-1].write_text(html, encoding="utf-8")
        browser.close()
    assert not problems, "\n".join(problems)
    checked = subprocess.run(["java", "-jar", str(VNU), "--format", "json", "--stdout", *map(str, html_files)],
                             capture_output=True, text=True, timeout=600)
    errors = [f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['message']}"
              for m in json.loads(checked.stdout or "{}").get("messages", []) if m.get("type") == "error"]
    assert not errors, "\n".join(errors)
