"""Issue 12 follow-up in Chromium against the real server: the live password-strength meter while
registering, the manager's official requests (approve and refuse), and the administrator's audit log
showing both decisions. The steps run in file order and share each person's browser context."""

import os
import re
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

COMMUNE_TYPED, COMMUNE = "vung tau", "Phường Vũng Tàu"
PEOPLE = {"approve": ("Lê Văn Duyệt Thử", "duyet.thu@example.vn"), "refuse": ("Phan Thị Từ Chối", "tu.choi@example.vn")}
PASSWORD = "ca phe sua da luc bay gio sang"
passed: set[str] = set()


def _register_as_official(page, name: str, email: str, meter_check: bool) -> None:
    page.goto("/register")
    page.wait_for_load_state()
    page.get_by_label(t("Full name")).fill(name)
    page.get_by_label(t("E-mail or phone number")).fill(email)
    password = page.get_by_label(t("Password"), exact=True)
    meter = page.locator("p.password-meter")
    if meter_check:
        expect(meter).to_have_attribute("aria-live", "polite")
        password.press_sequentially("password1234", delay=20)
        expect(meter).to_contain_text(t("This password is too easy to guess."))
        expect(meter).to_have_attribute("data-score", "weak")
        password.fill("")
        password.press_sequentially(PASSWORD[:8], delay=20)
        expect(meter).to_contain_text(t("The password must have at least %(min)d characters.", min=12))
    password.fill(PASSWORD)
    expect(meter).to_have_text(t("Strong password."))
    page.get_by_label(t("Repeat the password")).fill(PASSWORD)
    page.get_by_label(t("a civil servant or public employee")).check()
    with page.expect_response(lambda response: "/localities/search" in response.url):
        page.get_by_label(t("Find your commune or ward")).fill(COMMUNE_TYPED)
    commune = page.get_by_label(t("Commune or ward where you live or work"))
    commune.select_option(label=commune.locator("option", has_text=COMMUNE).first.inner_text())
    page.get_by_label(t("I have read the privacy notice and agree to the processing of my personal data.")).check()
    page.get_by_role("button", name=t("Create account")).click()
    expect(page.get_by_text(t("Your account is ready. Welcome, %(name)s!", name=name))).to_be_visible()
    expect(page.get_by_text(t("A manager of your commune or agency will confirm that you are a civil servant; until "
                              "then you study as a resident."))).to_be_visible()


def _decide(page, key: str, button: str) -> None:
    """On the manager's requests page: the row of PEOPLE[key] shows their address; `button` takes it off the list."""
    name, email = PEOPLE[key]
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text(email)
    row.get_by_role("button", name=button).click()
    expect(page.get_by_role("row").filter(has_text=name)).to_have_count(0)


def _latest_audit_entry(page, decision: str, detail: str) -> None:
    """On the audit log: filtered to audience.`decision`, the newest row is one, with `detail` (a regex) in it."""
    page.get_by_label(t("Action")).fill(f"audience.{decision}")
    page.get_by_role("button", name=t("Filter")).click()
    newest = page.locator("table.data tbody tr").first
    expect(newest).to_contain_text(f"audience.{decision}")
    expect(newest).to_contain_text(re.compile(detail))


def test_the_meter_speaks_while_two_officials_register(person):
    for index, (key, (name, email)) in enumerate(PEOPLE.items()):
        newcomer = person(f"newcomer-{key}")
        _register_as_official(newcomer.page, name, email, meter_check=index == 0)
        newcomer.assert_clean()
    passed.add("registered")


def test_the_manager_approves_one_request_and_refuses_the_other(person):
    if "registered" not in passed:
        pytest.skip("needs the registrations, which did not pass")
    manager = person("manager")
    log_in(manager, "manager")
    page = manager.page
    page.goto("/manage/audience-requests")
    _decide(page, "approve", t("Approve"))
    _decide(page, "refuse", t("Refuse"))
    manager.assert_clean()
    passed.add("decided")


def test_the_admin_finds_both_decisions_in_the_audit_log(person):
    if "decided" not in passed:
        pytest.skip("needs the decisions, which did not pass")
    admin = person("admin")
    log_in(admin, "administrator")
    page = admin.page
    page.goto("/admin/audit/")
    _latest_audit_entry(page, "approve", r'"audience": ?"official"')
    expect(page.locator("table.data tbody")).not_to_contain_text("audience.refuse")
    _latest_audit_entry(page, "refuse", r'"requested": ?"official"')
    with page.expect_download() as download:
        page.get_by_role("link", name=t("Download CSV")).click()
    assert "audience.refuse" in Path(download.value.path()).read_text(encoding="utf-8-sig")
    admin.assert_clean()
