"""Fixtures of the end-to-end suite: one real server per pass, one Chromium, one context per person.

They live as long as the tests/e2e package runs (`scope="package"`): the server stops and
Playwright's event loop closes before the rest of the suite (tests/journey opens its own).

The SQLite pass of `make test` runs the embedded default (`make run`); the PostgreSQL + Redis pass
(LMS_TEST_DATABASE_URL and LMS_TEST_REDIS_URL set) runs production mode. Without Chromium or
Playwright the suite is skipped with the reason, except in CI (`CI` set), where that is a failure.
"""

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.e2e import servers
from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, Persona

FIGURES = pytest.StashKey[list]()


def _missing_browser() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed (it comes with requirements-dev.txt)"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set LMS_CHROMIUM)"
    return None


class BrowserMissingInCI(RuntimeError):
    """Not `pytest.fail`: the known-defect xfail markers accept that, and this must never pass as one."""


@pytest.fixture(scope="session")
def chromium_present():
    reason = _missing_browser()
    if reason and os.environ.get("CI"):
        raise BrowserMissingInCI(f"CI must run the end-to-end suite, but {reason}")
    if reason:
        pytest.skip(f"end-to-end suite skipped: {reason}")


@pytest.fixture(scope="package")
def server(chromium_present, figure):
    """The real server of this pass; stopped (and its database dropped) after the last e2e test."""
    workdir = Path(tempfile.mkdtemp(prefix="lms-e2e-"))
    if servers.production_requested():
        running = servers.start_production(workdir, os.environ["LMS_TEST_DATABASE_URL"], os.environ["LMS_TEST_REDIS_URL"])
    else:
        running = servers.start_embedded(workdir)
    figure(f"set-up until /healthz answers ({running.mode})", f"{running.setup_seconds:.1f} s")
    try:
        yield running
    finally:
        running.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="package")
def browser(chromium_present):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="package")
def person(browser, server):
    """`person("learner")`: a fresh browser context for that person, kept for the session."""
    people: dict[str, Persona] = {}

    def get(who: str) -> Persona:
        if who not in people:
            people[who] = Persona(browser, server.base_url, who)
        return people[who]

    get.people = people
    yield get
    for persona in people.values():
        persona.close()


@pytest.fixture(autouse=True)
def _problems_belong_to_one_step(person):
    """What an earlier step's browser met was reported with that step; each step starts clean."""
    for persona in person.people.values():
        persona.problems.clear()


@pytest.fixture(scope="session")
def figure(request):
    """`figure(label, text)`: a measured figure, printed in the run's summary."""
    figures = request.config.stash.setdefault(FIGURES, [])
    return lambda label, text: figures.append(f"{label}: {text}")


def pytest_terminal_summary(terminalreporter, config):
    figures = config.stash.get(FIGURES, [])
    if figures:
        terminalreporter.section("end-to-end figures")
        for line in figures:
            terminalreporter.write_line(line)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, show what the server and the browsers saw."""
    report = yield
    if report.failed:
        # The package's server and any a module started for itself (single sign-on, two hosts…).
        started = {id(value): value for value in item.funcargs.values() if isinstance(value, servers.Server)}
        for running in started.values():
            report.sections.append((f"{running.mode} server logs", running.logs()))
    return report
