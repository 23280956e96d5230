from tests.reports.conftest import courses, english, facts, units  # noqa: F401 - shared hand-computed fixtures
