"""Page weight over the wire for the resident on a phone (issue 16's budgets, docs/performance.md):
the catalogue, a lesson and the quiz page cost at most 45 KB and 4 requests with an empty cache, and
one request (the page itself) once its styles and fonts are cached — on a true first visit (stylesheet
inline) as after an emptied cache (stylesheet linked). Measured in Debian's Chromium
against `flask serve` (gunicorn, the embedded default) with bench/page_weight.py's function.
"""

import os
from pathlib import Path

import pytest

from bench.page_weight import measure
from tests.e2e.servers import embedded_server
from tests.journey.live import CHROMIUM, launch

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM}"),
    pytest.mark.skipif(bool(os.environ.get("LMS_TEST_DATABASE_URL")), reason="runs in the SQLite pass"),
]

COLD_BYTES = 45 * 1024
COLD_REQUESTS = 4


@pytest.fixture(scope="module")
def figures():
    with embedded_server() as live, playwright.sync_playwright() as driver:
        browser = launch(driver)
        yield measure(browser, live.base)
        browser.close()


@pytest.mark.parametrize("when", ["first", "cold"])
@pytest.mark.parametrize("page", ["catalogue", "lesson", "quiz"])
def test_cold_page_within_budget(figures, page, when):
    # first: no cookie, the stylesheet inline (and prefetched); cold: the cookie, the stylesheet linked.
    cold = figures[page][when]
    assert cold.count <= COLD_REQUESTS, cold.summary()
    assert cold.bytes <= COLD_BYTES, cold.summary()
    # The page and its stylesheet came compressed; the fonts are the two subset files.
    encodings = [cold.encodings[rid] for rid in cold.wire if not cold.requests[rid].endswith(".woff2")]
    assert all(encoding in ("br", "gzip") for encoding in encodings), cold.summary()
    fonts = [cold.requests[rid] for rid in cold.wire if cold.requests[rid].endswith(".woff2")]
    assert all("be-vietnam-pro-vi-" in url for url in fonts), fonts


@pytest.mark.parametrize("when", ["warm", "warm after first"])
@pytest.mark.parametrize("page", ["catalogue", "lesson", "quiz"])
def test_warm_page_is_one_request(figures, page, when):
    warm = figures[page][when]
    assert warm.count == 1, warm.summary()
    assert "/static/" not in warm.requests[warm.wire[0]]
