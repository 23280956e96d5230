"""Flask's signed-cookie sessions, made cheaper per request (moved out of lms/__init__.py)."""

import copy
import time

from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

_IMMUTABLE = frozenset({str, int, float, bool, bytes, type(None)})


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer made once per key instead of twice a
    request (deriving it was ~2 % of a page's CPU). A changed secret key or fallback list makes a new one.

    A cookie already opened in this process is not verified and decoded again (~3 % of a lesson view):
    the same bytes under the same keys are the same session, so its decoded contents are kept beside the
    cookie's exact text (bounded, least recently used) and handed out as a fresh copy. Its age is still
    checked on every request against the session lifetime, as itsdangerous does. Who the session's person
    is, and whether the session still counts, is decided by the user loader from the database each time.
    """

    _serializer = (None, None)
    _opened = None  # cookie text → (signed at, epoch seconds; contents; all immutable) for the current serializer

    def get_signing_serializer(self, app):
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if self._serializer[0] != key:
            from lms.core.bounded_cache import BoundedCache

            self._serializer, self._opened = (key, super().get_signing_serializer(app)), BoundedCache(4096)
        return self._serializer[1]

    def open_session(self, app, request):
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        opened = self._opened.get(cookie)
        if opened is None:
            try:
                data, signed_at = serializer.loads(cookie, max_age=max_age, return_timestamp=True)
            except BadSignature:
                return self.session_class()
            flat = all(type(value) in _IMMUTABLE for value in data.values())
            opened = (signed_at.timestamp(), data, flat)
            self._opened.put(cookie, opened)
        if not 0 <= time.time() - opened[0] <= max_age:  # itsdangerous' SignatureExpired (or a future stamp)
            return self.session_class()
        # Nothing a request does to its session may reach the kept contents: a plain copy when every value is
        # immutable (the usual session: ids, a token, a language), a deep copy otherwise.
        return self.session_class(opened[1] if opened[2] else copy.deepcopy(opened[1]))

    def save_session(self, app, session, response):
        # Most requests leave their session as it came (every light page): Flask's own method reads seven
        # cookie settings from the config before it finds there is nothing to write (~1.5 % of a lesson view).
        if session and not self.should_set_cookie(app, session):
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)
