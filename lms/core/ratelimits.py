"""Flask-Limiter, one per app (its storage and switches are per instance, and tests build several apps).

Limits are per client address: `request.remote_addr`, which is the real client behind a reverse proxy
only when LMS_TRUSTED_PROXIES says how many proxies to trust (lms.core.proxies). Storage: Redis in
production, a SQLite file shared by the workers in the embedded default
(lms.core.ratelimit_store). Which routes are limited is said by the
features: (endpoint, config key of the limit, `deduct_when`) in their ROUTE_LIMITS.
"""

from functools import partial, wraps

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from lms.core import ratelimit_store  # noqa: F401 - registers the lms-sqlite:// storage scheme with `limits`

LIMITED_METHODS = ["POST"]  # the only method any route limit counts (a form sent)


def _limit_from(key: str):
    return lambda: current_app.config[key]


def install(app, route_limits) -> Limiter:
    """`route_limits`: the features' (endpoint, config key, deduct_when) — passed in, since core imports no feature."""
    limiter = Limiter(key_func=get_remote_address, app=app)
    for endpoint, key, deduct_when in route_limits:
        view = app.view_functions[endpoint]
        app.view_functions[endpoint] = limiter.limit(_limit_from(key), methods=LIMITED_METHODS, deduct_when=deduct_when)(view)

    # Every limit is on a POST, but Flask-Limiter still worked out each page view's limits (resolving the
    # endpoint's, the blueprint's and the defaults') before finding none: ~6 % of a lesson view's CPU.
    # A request filter is its documented way to say "no limit applies here" first.
    @limiter.request_filter
    def _unlimited_method() -> bool:
        return request.method not in LIMITED_METHODS

    _only_for_limited_methods(app, limiter)
    app.extensions["lms_limiter"] = limiter
    return limiter


def _only_for_limited_methods(app, limiter) -> None:
    """Flask-Limiter's three request hooks (check, headers, context reset) run only for a limited method.
    The request filter above already made them find nothing for a page view, but calling them to find it
    — resolving the endpoint, its limits, the per-request context — still cost ~4 % of a lesson view.
    Its state lives on the request context, so a GET that never touched it has nothing to reset."""

    def ours(hook) -> bool:
        return getattr(hook, "__self__", None) is limiter or (isinstance(hook, partial) and limiter in hook.args)

    def before(hook):
        return wraps(hook)(lambda: hook() if request.method in LIMITED_METHODS else None)

    def after(hook):
        return wraps(hook)(lambda response: hook(response) if request.method in LIMITED_METHODS else response)

    def teardown(hook):
        return wraps(hook)(lambda error=None: hook(error) if request.method in LIMITED_METHODS else None)

    for hooks, wrap in ((app.before_request_funcs, before), (app.after_request_funcs, after),
                        (app.teardown_request_funcs, teardown)):
        for index, hook in enumerate(hooks.get(None, ())):  # none when the limiter is switched off
            if ours(hook):
                hooks[None][index] = wrap(hook)
