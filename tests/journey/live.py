"""The Chromium that drives the journey tests' real server (tests/e2e/servers.py: EmbeddedServer): Debian's,
through Playwright, which downloads nothing."""

import os

CHROMIUM = os.environ.get("LMS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def launch(driver):
    return driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
