"""One request lifecycle for every view: stackable decorators, after CTFd's.

    @view                          # outermost: the transaction boundary (see below)
    @login_required                # lms.core.permissions: log in first (HTML redirect, JSON 401)
    @load(Quiz, "quiz_id")         # the object, or 404; the view receives it instead of the id
    @allowed("view")               # quiz.can_view(current_user), or 403
    def take(quiz): ...

`view` is the transaction boundary. A view commits once, on its success path, after the operations
it called flushed; a refusal (an HTTP error, a form sent back) commits nothing, and Flask-SQLAlchemy
discards what was not committed when the request ends; any other exception rolls back at once, so
the error page never meets a broken transaction (PostgreSQL refuses every statement after a failed
one). Page views (GET, HEAD) only read; the few that also write (a visit, a counter) commit what
they wrote and are retried under the write lock on SQLite (lms.core.db.retry_stale_reads, applied
on top of this).
Errors are answered by lms.core.errors, as HTML or JSON by `Accept` (lms.core.permissions.wants_json).
`tests/test_architecture.py` walks the url_map and checks every view is wrapped.
"""

from functools import wraps

from flask import abort
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from lms.extensions import db


def view(function):
    """The transaction boundary of one request: nothing survives a refusal, an error rolls back at once."""

    @wraps(function)
    def wrapper(*args, **kwargs):
        try:
            response = function(*args, **kwargs)
        except HTTPException:
            raise  # a refusal (404, 403…): nothing is committed
        except BaseException:
            db.session.rollback()
            raise
        return response

    wrapper.lms_lifecycle = True
    return wrapper


def load(model, parameter: str, *, name: str | None = None, get=None):
    """Replace the URL's `parameter` (an id) by the `model` row, or answer 404; passed on as `name`
    (default: the model's name in snake case, e.g. `training_class`). `get(id)` loads it another
    way (with a row lock, say)."""
    argument = name or "".join(f"_{c.lower()}" if c.isupper() else c for c in model.__name__).lstrip("_")

    def decorator(function):
        @wraps(function)
        def wrapper(*args, **kwargs):
            row = (get or (lambda key: db.session.get(model, key)))(kwargs.pop(parameter))
            if row is None:
                abort(404)
            return function(*args, **{argument: row}, **kwargs)

        return wrapper

    return decorator


def allowed(ability: str, argument: str | None = None, *, refuse: int = 403):
    """`refuse` (403; 404 where even the object's existence is private) unless
    `<object>.can_<ability>(current_user)`, on the object `load` passed (the first that has the
    method, or `argument` by name). Permission logic stays on the model."""

    def decorator(function):
        @wraps(function)
        def wrapper(*args, **kwargs):
            target = kwargs[argument] if argument else next(
                value for value in kwargs.values() if hasattr(value, f"can_{ability}"))
            if not getattr(target, f"can_{ability}")(current_user):
                abort(refuse)
            return function(*args, **kwargs)

        return wrapper

    return decorator
