"""What an answer made below Flask (lms/quizzes/fast_save.py, lms/core/fast_pages.py) must carry to equal Flask's.

Flask's after-request hooks, in the order they run for a request that leaves its session as it came and
writes nothing: Flask-Compress, the security headers, the request id, then the session interface's save
(which only adds `Vary: Cookie`, or sends the cookie when it must be refreshed). The hooks that have
nothing to do for such a request (remembered log-in cookie, "last seen", rate limits, the stylesheet
cookie) are the reason the callers hand anything else to Flask.
"""

import time

from lms.core.metrics import observe_request
from lms.core.observability import bind_request_id, current_request_id, request_id_from, unbind_request_id


class Layer:
    """A WSGI layer in front of the Flask app that answers some requests itself and passes the rest to `wsgi_app`."""

    def __init__(self, wsgi_app, app):
        from lms.extensions import db

        self.wsgi_app, self.app = wsgi_app, app
        with app.app_context():
            self.engine = db.engine  # the app's (the pool figure of /metrics is sampled from it)
        self.answered = 0  # in this process (tests, the bench)

    def answer_with_id(self, environ, answer, *arguments):
        """answer(environ, *arguments) with the request's id bound (the proxy's, or a new one), as Flask binds it."""
        token = bind_request_id(request_id_from(environ.get("HTTP_X_REQUEST_ID", "")))
        try:
            return answer(environ, *arguments)
        finally:
            unbind_request_id(token)

    def counted(self, endpoint: str, method: str, response, started: float):
        """`response`, counted in /metrics as Flask counts its answers, and as answered in front of Flask."""
        self.answered += 1
        observe_request(endpoint, method, response.status_code, time.perf_counter() - started, self.engine,
                        below_flask=True)
        return response


def finish(app, request, cookie_session, response):
    """`response` with the headers Flask's after-request hooks give it (in the same order), compressed as they would."""
    compress(app, request, response)
    for_root = app.extensions.get("lms_inline_style")
    app.extensions["lms_security_headers"](response.headers, for_root(request.script_root) if for_root else None)
    response.headers["X-Request-ID"] = current_request_id() or ""
    app.session_interface.save_session(app, cookie_session, response)  # Vary: Cookie; a cookie only if changed
    return response


def compress(app, request, response) -> None:
    """Flask-Compress's after_request for a small, finished body: its own algorithm choice and coder, its strong
    ETag suffix, and the conditional answer it makes of a compressed GET."""
    from flask_compress.flask_compress import _choose_algorithm, _compress_data

    from lms.extensions import compress as extension
    vary = response.headers.get("Vary")
    response.headers["Vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"
    algorithm = _choose_algorithm(extension.enabled_algorithms, request.headers.get("Accept-Encoding", ""))
    if algorithm is None or response.mimetype not in extension.compress_mimetypes_set \
            or response.content_length < app.config["COMPRESS_MIN_SIZE"]:
        return
    response.headers["Content-Encoding"] = algorithm
    response.set_data(_compress_data(app, response.get_data(), algorithm))
    response.headers["Content-Length"] = response.content_length
    etag, is_weak = response.get_etag()
    if etag and not is_weak:
        response.set_etag(f"{etag}:{algorithm}", weak=False)
    if app.config["COMPRESS_EVALUATE_CONDITIONAL_REQUEST"] and request.method in ("GET", "HEAD"):
        response.make_conditional(request)  # as Flask-Compress: a Date, and If-None-Match/If-Modified-Since answered
