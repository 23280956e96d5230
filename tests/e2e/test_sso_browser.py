"""Single sign-on in Chromium: `make run` configured with one OpenID provider (OIDC_* in its
environment, as docs/identity.md says) and panva's oidc-provider on 127.0.0.1. A new person's first
login (asked only commune and consent), logout at the provider too (RP-initiated), and a return login.

This module starts its own server (the package's one has no provider configured).
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

try:
    from playwright.sync_api import expect
except ImportError:
    if os.environ.get("CI"):
        raise
    pytest.skip("end-to-end suite skipped: Playwright is not installed", allow_module_level=True)

from tests.e2e import servers
from tests.e2e.browser import Persona, menu, t
from tests.identity import oidc_provider

NAME, SUBJECT = "Lê Thị Mới", "079123456789"
ACCOUNTS = {SUBJECT: {"email": "le.moi.vneid@example.vn", "email_verified": True, "name": NAME}}


@pytest.fixture(scope="module")
def sso_site(chromium_present):
    servers.only_in_the_sqlite_pass()  # `make run` with single sign-on: SQLite in either pass
    if oidc_provider.missing():
        if os.environ.get("CI"):
            raise RuntimeError(f"CI must run the single sign-on tests, but {oidc_provider.missing()}")
        pytest.skip(oidc_provider.missing())
    port = servers.free_port()
    settings = {"OIDC_PROVIDERS": "vneid", "OIDC_VNEID_ISSUER": f"http://127.0.0.1:{port}",
                "OIDC_VNEID_CLIENT_ID": oidc_provider.CLIENT_ID, "OIDC_VNEID_CLIENT_SECRET": oidc_provider.CLIENT_SECRET,
                "OIDC_VNEID_LABEL": "VNeID"}
    workdir = Path(tempfile.mkdtemp(prefix="lms-e2e-sso-"))
    os.environ.update(settings)  # the person's shell when they run `make run`
    try:
        server = servers.start_embedded(workdir)
    finally:
        for name in settings:
            os.environ.pop(name, None)
    provider = None
    try:
        provider = oidc_provider.start([f"{server.base_url}/sso/vneid/callback"], ACCOUNTS, port=port,
                                       post_logout_redirect_uris=[f"{server.base_url}/courses"])
        yield server
    finally:
        if provider:
            provider.stop()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def citizen(browser, sso_site):
    persona = Persona(browser, sso_site.base_url, "sso-citizen")
    yield persona
    persona.close()


def sign_in_at_the_provider(page) -> None:
    page.goto("/login")
    page.get_by_role("link", name=t("Sign in with %(label)s", label="VNeID")).click()
    page.get_by_label("Số định danh").fill(SUBJECT)
    page.get_by_role("button", name="Đăng nhập").click()


def test_first_login_asks_only_what_the_provider_did_not_give(citizen, sso_site):  # sso_site: its log on failure
    page = citizen.page
    sign_in_at_the_provider(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Finish creating your account"))
    expect(page.get_by_label(t("Full name"))).to_have_value(NAME)
    expect(page.get_by_label(t("E-mail or phone number"))).to_have_count(0)  # the provider gave a verified e-mail
    page.wait_for_load_state()  # the commune picker's script is in place before the person types
    with page.expect_response(lambda response: "/localities/search" in response.url):
        page.get_by_label(t("Find your commune or ward")).fill("vung tau")
    commune = page.get_by_label(t("Commune or ward where you live or work"))
    commune.select_option(label=commune.locator("option", has_text="Phường Vũng Tàu").first.inner_text())
    page.get_by_label(t("I have read the privacy notice and agree to the processing of my personal data.")).check()
    page.get_by_role("button", name=t("Create account")).click()
    expect(page.get_by_text(t("Welcome, %(name)s!", name=NAME))).to_be_visible()
    page.goto("/profile/privacy")
    expect(page.get_by_role("table").get_by_role("cell", name=t("given"), exact=True)).to_be_visible()
    citizen.assert_clean()


def test_logout_ends_the_session_here_and_at_the_provider(citizen, sso_site):
    page = citizen.page
    page.goto("/")
    menu(page).get_by_role("button", name=t("Log out")).click()
    page.get_by_role("button", name="Đăng xuất").click()  # the provider asks to confirm (RP-initiated logout)
    page.wait_for_url(f"{sso_site.base_url}/**")
    expect(menu(page).get_by_role("link", name=t("Log in"))).to_be_visible()
    citizen.assert_clean()


def test_return_login_goes_straight_in(citizen, sso_site):
    page = citizen.page
    sign_in_at_the_provider(page)  # the provider's session ended, so it asks again
    expect(page.get_by_text(t("Welcome, %(name)s!", name=NAME))).to_be_visible()
    expect(menu(page).get_by_role("link", name=NAME)).to_be_visible()
    citizen.assert_clean()
