"""Installable and readable offline (issue 16): the web app manifest, the service worker, the offline
page, and per course the list of what "download for offline" stores (docs/phones.md, "Offline")."""

import base64
import hashlib

# Inline in every page (no extra request, so the cold page-weight budget holds); allowed by its hash
# in the Content-Security-Policy. Registered after "load" so it never competes with the page itself.
REGISTRATION = ('if("serviceWorker"in navigator)addEventListener("load",function(){'
                'navigator.serviceWorker.register("/sw.js")})')
REGISTRATION_HASH = "'sha256-" + base64.b64encode(hashlib.sha256(REGISTRATION.encode()).digest()).decode() + "'"
