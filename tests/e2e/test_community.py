"""A commune manager adds a community digital team member; the member registers an elderly resident
with her paper consent, helps her through a practice simulation on the member's own phone, and the
manager's report counts it as assisted — in Chromium, against the real server of this pass."""

import os

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # requirements-dev.txt not installed: a clone may skip, CI may not
    if os.environ.get("CI"):
        raise
    pytest.skip("end-to-end suite skipped: Playwright is not installed (requirements-dev.txt)", allow_module_level=True)

from tests.e2e import course_material as material
from tests.e2e.browser import menu, t
from tests.e2e.practice import do_simulation
from tests.e2e.test_journey import COMMUNE, log_in, open_course

RESIDENT, PHONE, HAMLET, CONSENT = "Nguyễn Thị Tư", "0912000111", "Khu phố 5", "PĐY-2025-0007"
SIMULATIONS = material.simulations(material.CITIZEN_COURSE)
SCAM = next(title for title in SIMULATIONS if "lừa đảo" in title)
MEMBER_LOGIN = material.demo_account("learner")[0]


def test_a_team_member_helps_a_resident_and_the_manager_sees_it_as_assisted(person):
    manager = person("commune manager")
    log_in(manager, "manager")
    page = manager.page
    menu(page).get_by_role("link", name=t("Community digital teams")).click()
    page.get_by_label(t("Member's e-mail or phone number")).fill(MEMBER_LOGIN)
    commune = page.get_by_label(t("Commune or ward"))
    commune.select_option(label=commune.locator("option", has_text=COMMUNE).first.inner_text())
    page.get_by_role("button", name=t("Add to the team")).click()
    expect(page.locator(".flash.success")).to_be_visible()

    member = person("team member")
    log_in(member, "learner")
    page = member.page
    menu(page).get_by_role("link", name=t("Community digital team")).click()
    page.get_by_role("link", name=t("Register a resident")).click()
    page.get_by_label(t("Full name")).fill(RESIDENT)
    page.get_by_label(t("The resident's own phone number")).fill(PHONE)
    page.get_by_label(t("Hamlet or residential group (thôn, ấp, khu phố)")).fill(HAMLET)
    consent = page.get_by_label(t("Number of the signed consent form"))
    expect(consent).to_have_attribute("required", "")  # no consent, no registration (the server refuses it too)
    page.get_by_label(t("Number of the signed consent form")).fill(CONSENT)
    page.get_by_role("button", name=t("Register the resident")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(RESIDENT)
    expect(page.locator("figure svg")).to_be_visible()  # the set-password QR for her own phone

    page.get_by_role("link", name=t("Back to my residents")).click()
    row = page.get_by_role("row").filter(has_text=RESIDENT)
    row.get_by_role("button", name=t("Help now")).click()
    expect(page.get_by_text(t("Assisting: %(name)s", name=RESIDENT))).to_be_visible()
    open_course(page)
    page.get_by_role("button", name=t("Enrol in this course")).click()
    open_course(page)
    page.get_by_role("link", name=SCAM, exact=True).click()
    do_simulation(page, SIMULATIONS[SCAM])
    expect(page.get_by_text(t("Assisting: %(name)s", name=RESIDENT))).to_be_visible()
    page.get_by_role("button", name=t("End the assisted session")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Community digital team"))
    row = page.get_by_role("row").filter(has_text=RESIDENT)
    expect(row.locator("td").nth(3)).to_have_text("1")  # simulations finished
    member.assert_clean()

    page = manager.page
    page.reload()
    report = page.get_by_role("row").filter(has_text=HAMLET)
    # registered by the team, assisted, self-learners, simulations with help, alone
    expect(report.locator("td").nth(2)).to_have_text("1")
    expect(report.locator("td").nth(3)).to_have_text("1")
    expect(report.locator("td").nth(5)).to_have_text("1")
    expect(report.locator("td").nth(6)).to_have_text("0")
    manager.assert_clean()
