"""The import's "Checking the file" page in Chromium against the real server (issue 12): the
administrator uploads a file while the background worker is busy (paused), sees the status page
follow the job by itself — no meta refresh, the page is not reloaded — and lands on the preview
once the worker has checked the file; the run's progress page then reaches "Finished" in place."""

import os
import re
import signal
import sqlite3
from contextlib import contextmanager
from pathlib import Path

import pytest

try:
    from playwright.sync_api import expect
except ImportError:
    if os.environ.get("CI"):
        raise
    pytest.skip("end-to-end suite skipped: Playwright is not installed", allow_module_level=True)

from tests.e2e.browser import t
from tests.e2e.test_journey import log_in
from tests.journey.test_conformance import kit  # noqa: F401  (axe-core from the acceptance kit)

CSV = ("\ufeffHọ và tên,Email,Mã xã\n"
       "Nguyễn Thị Nhập Thử,nhap.thu.1@example.vn,26506\n"
       "Trần Văn Nhập Thử,nhap.thu.2@example.vn,26506\n").encode()


def _runner_pids(server) -> list[int]:
    """The embedded runner (`flask jobs run`, a child of `make run`'s process group)."""
    group = next(service.process.pid for service in server.services if service.name == "make-run")
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and os.getpgid(int(entry.name)) == group:
                command = (entry / "cmdline").read_bytes().split(b"\0")
                if b"jobs" in command and b"run" in command:
                    pids.append(int(entry.name))
        except (OSError, ProcessLookupError):
            continue
    assert pids, "no background runner found under make run"
    return pids


def _write_lock_free(server) -> bool:
    """Whether the paused runner was stopped outside a write (else the site would wait on its lock)."""
    try:
        connection = sqlite3.connect(server.database_url.removeprefix("sqlite:///"), timeout=0.5)
        connection.execute("BEGIN IMMEDIATE")
        connection.rollback()
        connection.close()
        return True
    except sqlite3.OperationalError:
        return False


@contextmanager
def worker_paused(server):
    """The background worker stops taking work (SIGSTOP) until the block ends: a busy worker, made
    deterministic, so the "checking" state lasts until the test lets it go."""
    worker = next((service for service in server.services if service.name == "celery-worker"), None)
    if worker is not None:
        def send(sig):
            os.killpg(worker.process.pid, sig)
    else:
        pids = _runner_pids(server)

        def send(sig):
            for pid in pids:
                os.kill(pid, sig)
    send(signal.SIGSTOP)
    try:
        for _ in range(50):  # embedded: never leave SQLite's write lock held by a stopped process
            if worker is not None or _write_lock_free(server):
                break
            send(signal.SIGCONT)
            send(signal.SIGSTOP)
        yield
    finally:
        send(signal.SIGCONT)


def test_the_check_page_follows_the_worker_then_opens_the_preview(person, server):
    admin = person("import-admin")
    log_in(admin, "administrator")
    page = admin.page
    page.goto("/admin/imports/")
    with worker_paused(server):
        page.get_by_label(t("CSV or Excel (.xlsx) file")).set_input_files(
            {"name": "nhap-thu.csv", "mimeType": "text/csv", "buffer": CSV})
        page.get_by_role("button", name=t("Upload and check")).click()
        page.wait_for_url(re.compile(r"/admin/imports/\d+$"))
        status_url = page.url
        card = page.locator("[data-job-status]")
        expect(card.locator(".badge")).to_have_text(t("Checking the file"))
        expect(card).to_contain_text(t("The file is being read and checked; the preview opens by itself when it is ready."))
        assert page.locator('meta[http-equiv="refresh" i]').count() == 0
        page.evaluate("window.stillThisPage = true")
        # The page asks the server again by itself, in place: the same document after the answer.
        with page.expect_response(lambda response: response.url == status_url and response.request.resource_type == "fetch"):
            pass
        expect(card.locator(".badge")).to_have_text(t("Checking the file"))
        assert page.evaluate("window.stillThisPage === true")
    # The worker checks the file; the page goes to the preview without anyone reloading it.
    page.wait_for_url(re.compile(r"/admin/imports/\d+/preview$"), timeout=60_000)
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Check the import: %(file)s", file="nhap-thu.csv"))
    facts = page.locator("dl.facts").first
    expect(facts).to_contain_text(t("New accounts"))
    expect(facts.locator("dd").nth(0)).to_have_text("2")  # rows
    expect(facts.locator("dd").nth(1)).to_have_text("2")  # new accounts

    page.get_by_role("button", name=t("Run the import")).click()
    page.wait_for_url(re.compile(r"/admin/imports/\d+$"))
    page.evaluate("window.stillThisPage = true")
    card = page.locator("[data-job-status]")
    expect(card.locator(".badge")).to_have_text(t("Finished"), timeout=60_000)
    expect(card).to_contain_text(t("New accounts"))
    assert page.evaluate("window.stillThisPage === true")  # reached in place, not by reloading
    admin.assert_clean()


def test_the_export_status_page_updates_in_place_and_axe_finds_nothing(person, server, request):
    """The reports export's status page (issue 16): no meta refresh (axe's `meta-refresh` rule, WCAG
    2.2.1), the same in-place script as the import pages (static/js/job-status.js), axe 0 violations
    while the job waits and once the file is ready — reached without reloading the page."""
    from tests.conftest import ACCEPTANCE
    if not ACCEPTANCE.is_dir():
        pytest.skip(f"no acceptance kit at {ACCEPTANCE}")
    from tests.journey.test_conformance import axe_violations
    axe = request.getfixturevalue("kit")
    admin = person("import-admin")
    log_in(admin, "administrator")
    page = admin.page
    page.goto("/reports")  # one unit in scope: its page at once; several: a list of them
    if page.locator("a[href*='/learners.xlsx']").count() == 0:
        hrefs = page.eval_on_selector_all("a[href*='/reports/localities/']", "all => all.map((a) => a.href)")
        page.goto(next(href for href in hrefs if re.search(r"/reports/localities/\d+(\?|$)", href)))
    page.locator("a[href*='/learners.xlsx']").first.click()
    with worker_paused(server):
        page.get_by_role("button", name=t("Prepare the %(format)s file", format="XLSX")).click()
        page.wait_for_url(re.compile(r"/reports/exports/\d+$"))
        status_url = page.url
        card = page.locator("[data-job-status]")
        expect(card.locator("progress")).to_be_visible()
        assert page.locator('meta[http-equiv="refresh" i]').count() == 0
        assert page.locator("script[src*='/js/job-status.']").count() == 1
        assert axe_violations(page, axe) == []
        page.evaluate("window.stillThisPage = true")
        with page.expect_response(lambda response: response.url == status_url and response.request.resource_type == "fetch"):
            pass
        expect(card.locator("progress")).to_be_visible()
    expect(card.get_by_role("link", name=t("Download the %(format)s file", format="XLSX"))).to_be_visible(timeout=60_000)
    assert page.evaluate("window.stillThisPage === true")  # reached in place, not by reloading
    assert axe_violations(page, axe) == []
    admin.assert_clean()
