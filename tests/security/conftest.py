"""Fixtures for the security tests: a real server (gunicorn via `flask serve`) with the demo accounts."""

import pytest

from tests.certificates.conftest import completed_enrollment, issued  # noqa: F401 - fixtures reused here
from tests.e2e.servers import embedded_server, only_in_the_sqlite_pass

# `make run`'s set-up with the demo accounts only (no courses: these tests are about accounts).
ACCOUNT_STEPS = (("db", "upgrade"), ("localities", "load"), ("demo", "create"))


@pytest.fixture(scope="package")
def live_server():
    only_in_the_sqlite_pass()
    with embedded_server(ACCOUNT_STEPS) as live:
        yield live
