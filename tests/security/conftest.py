"""Fixtures for the security tests: a real server (gunicorn via `flask serve`) with the demo accounts."""

import subprocess
import sys

import pytest

from tests.certificates.conftest import completed_enrollment, issued  # noqa: F401 - fixtures reused here
from tests.conftest import ROOT
from tests.journey.live import LiveServer


class AccountsServer(LiveServer):
    """`make run`'s server with the demo accounts only (no courses: these tests are about accounts)."""

    def set_up(self):
        flask = [sys.executable, "-m", "flask", "--app", "app"]
        for step in (["db", "upgrade"], ["localities", "load"], ["demo", "create"]):
            subprocess.run(flask + step, cwd=ROOT, env=self.env, check=True, capture_output=True)


@pytest.fixture(scope="package")
def live_server():
    live = AccountsServer()
    try:
        live.set_up()
        live.start()
        yield live
    finally:
        live.remove()
