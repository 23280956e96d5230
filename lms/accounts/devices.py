"""A short "browser on system" name for a session's User-Agent, for the person to recognise a device.

Deliberately small (the page shows it beside the address and times; it decides nothing): the first
known browser and system found, most specific first, else "Unknown browser".
"""

import re

from flask_babel import gettext as _

# Order matters: Edge, Opera, Cốc Cốc and Zalo's in-app browser also say "Chrome"/"Safari".
_BROWSERS = (("Edg", "Edge"), ("OPR", "Opera"), ("coc_coc_browser", "Cốc Cốc"), ("Zalo", "Zalo"),
             ("SamsungBrowser", "Samsung Internet"), ("Firefox", "Firefox"), ("FxiOS", "Firefox"),
             ("CriOS", "Chrome"), ("HeadlessChrome", "Chrome"), ("Chromium", "Chromium"), ("Chrome", "Chrome"),
             ("Safari", "Safari"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def summary(user_agent: str | None) -> str:
    text = user_agent or ""
    browser = next((name for token, name in _BROWSERS if re.search(rf"\b{token}\b", text)), None)
    system = next((name for token, name in _SYSTEMS if token in text), None)
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system or _("Unknown browser")
