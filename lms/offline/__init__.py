"""Installable and readable offline (issue 16): the web app manifest, the service worker, the offline
page, and per course the list of what "download for offline" stores (docs/phones.md, "Offline")."""

import base64
import hashlib

# Inline in every page (no extra request, so the cold page-weight budget holds); allowed by its hash
# in the Content-Security-Policy. Registered after "load" so it never competes with the page itself.
# After registering it asks the worker (when the page is online) to send what waits (progress, quiz
# answers made offline) and shows what the server refused (answers arriving after their attempt was
# submitted) as an alert.
REGISTRATION = ('if("serviceWorker"in navigator){var w=navigator.serviceWorker;'
                'w.addEventListener("message",function(e){(e.data&&e.data.notices||[]).forEach(function(t){'
                'var p=document.createElement("p");p.className="flash error";p.setAttribute("role","alert");'
                'p.textContent=t;(document.querySelector("main")||document.body).prepend(p)});'
                'var u=e.data&&e.data.updated&&document.querySelector("[data-updated-notice]");if(u){'
                'var q=document.createElement("p");q.className="flash info";q.setAttribute("role","status");'
                'q.textContent=u.getAttribute("data-updated-notice");(document.querySelector("main")||document.body).prepend(q)}});'
                'addEventListener("load",function(){w.register("/sw.js");w.ready.then(function(r){'
                'navigator.onLine&&r.active&&r.active.postMessage("send")'
                '})})}')
REGISTRATION_HASH = "'sha256-" + base64.b64encode(hashlib.sha256(REGISTRATION.encode()).digest()).decode() + "'"
