import hashlib

from flask import jsonify, make_response, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from lms.catalog import queries as catalog_queries
from lms.core.lifecycle import found, view
from lms.core.permissions import require
from lms.offline.queries import course_manifest

# Cached at once by the service worker: what every stored page needs to be drawn without a network
# (practice.js: the simulation lessons of a downloaded course).
SHELL_STATIC = ("css/app.css", "js/offline.js", "js/practice.js", "img/favicon.svg", "img/icon-192.png",
                "fonts/be-vietnam-pro-vi-400.woff2", "fonts/be-vietnam-pro-vi-700.woff2")


@view
def service_worker():
    """The worker's text names the fingerprinted shell files, so a new stylesheet is a new worker."""
    shell_urls = [url_for("offline.page")] + [url_for("static", filename=name) for name in SHELL_STATIC]
    version = hashlib.sha256("|".join(shell_urls).encode()).hexdigest()[:12]
    response = make_response(render_template("offline/sw.js", shell_urls=shell_urls, version=version))
    response.mimetype = "text/javascript"
    # Browsers re-check the worker at most daily anyway; no-cache makes every check ask the server.
    response.headers["Cache-Control"] = "no-cache"
    return response


@view
def web_manifest():
    response = jsonify({
        "name": _("Smart City Learning"), "short_name": _("Learning"), "lang": "vi", "start_url": "/",
        "scope": "/", "display": "standalone", "background_color": "#ffffff", "theme_color": "#0b5cad",
        "icons": [{"src": url_for("static", filename=f"img/icon-{n}.png"), "sizes": f"{n}x{n}", "type": "image/png",
                   "purpose": "any maskable"} for n in (192, 512)],
    })
    response.mimetype = "application/manifest+json"
    return response


@view
def token():
    """Who is logged in here and a token for their next POST: the service worker sends a queue of
    offline progress only as the person who made it (records of another account wait)."""
    response = jsonify(user=str(current_user.id) if current_user.is_authenticated else "", token=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response


@view
def page():
    return render_template("offline/index.html")


@view
def course(slug):
    course = found(catalog_queries.course_by_slug(slug))
    require(course.can_view(current_user))
    manifest = course_manifest(course, course.active_lessons(), current_user)
    response = jsonify(manifest)
    response.headers["Cache-Control"] = "no-store"
    response.set_etag(manifest["version"])
    return response


