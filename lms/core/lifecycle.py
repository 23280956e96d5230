"""One request lifecycle for every view: stackable decorators, after CTFd's.

    @view                          # outermost: the transaction boundary (see below)
    @login_required                # lms.core.permissions: log in first (HTML redirect, JSON 401)
    @load(Quiz, "quiz_id")         # the object, or 404; the view receives it instead of the id
    @allowed("view")               # quiz.can_view(current_user), or 403
    def take(quiz): ...

`view` is the transaction boundary, so views never commit: it commits once when the view returns a
success (2xx, 3xx), after the operations the view called flushed; a refusal (an HTTP error raised,
a form sent back with 4xx) and any other exception roll back at once, so the error page never meets
a broken transaction (PostgreSQL refuses every statement after a failed one). Two named helpers
cover the exceptions: `save_now()` (a refusal that must keep what it wrote, like a failed log-in
that counts, or a commit before something irreversible) and `discard()` (an operation refused half
way and the view still answers with success). Page views (GET, HEAD) mostly read; the few that also write (a visit, a
counter) are retried under the write lock on SQLite (lms.core.db.retry_stale_reads, applied on top
of this).
Errors are answered by lms.core.errors, as HTML or JSON by `Accept` (lms.core.permissions.wants_json).
`tests/test_architecture.py` walks the url_map and checks every view is wrapped.
"""

from functools import wraps

from flask import abort
from flask_login import current_user

from lms.core.db import existing_session, session_is_idle
from lms.extensions import db


def view(function):
    """The transaction boundary of one request: commit once when the view answers with success
    (2xx, 3xx); roll back a refusal (an HTTP error raised, or a 4xx/5xx answer such as a form sent
    back) and every other exception, at once, before the error page."""

    @wraps(function)
    def wrapper(*args, **kwargs):
        try:
            response = function(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise
        if _status(response) < 400:
            session = existing_session()
            if session is None or session_is_idle(session):
                # Nothing began (a light page reads on lms.core.raw_reads): Session.commit() would make a
                # session and begin a transaction only to end it, with its events, for nothing.
                return response
            try:
                session.commit()
            except BaseException:
                db.session.rollback()
                raise
        else:
            db.session.rollback()
        return response

    wrapper.lms_lifecycle = True
    return wrapper


def light_viewer(function):
    """Mark a view whose person (current_user) is read for plain values only — id, name, roles, text
    size — so the user loader gives it a `lms.accounts.viewer.Viewer` from one Core row instead of the ORM
    User with its grants. Anything else asked of it loads the ORM User then (once a request); the checks
    that the session is still good are the same on both paths. Put it above `@view`."""
    function.lms_light_viewer = True
    return function


def viewer_id(user=None) -> int | None:
    """The signed-in person's id, or None for a visitor: what the light pages' one-row statements take. `user`:
    the request's person when the view holds it already (default: current_user)."""
    user = current_user._get_current_object() if user is None else user
    return user.id if user.is_authenticated else None


def _status(response) -> int:
    """The status of whatever a view returned: a Response, a string, or a (body, status[, headers]) tuple."""
    if isinstance(response, tuple):
        if len(response) > 1 and isinstance(response[1], int):
            return response[1]
        if len(response) > 1 and isinstance(response[1], str) and response[1][:3].isdigit():
            return int(response[1][:3])
        response = response[0]
    return getattr(response, "status_code", 200)


def save_now() -> None:
    """Commit what the request wrote so far, before the view refuses (a failed log-in or a wrong code
    must count although the answer is a 4xx) or does something that cannot be undone (hands work
    to a queue, streams a file). The one place a view commits by itself; say why beside the call."""
    db.session.commit()


def discard() -> None:
    """Forget what the request wrote so far: an operation refused half way and the view goes on
    with a success answer (a message and a redirect), which would otherwise commit the half."""
    db.session.rollback()


def found(row, visible: bool = True):
    """`row`, or 404 when the query found none or the row is not `visible` here (another course's
    lesson, someone else's request: its existence is private)."""
    if row is None or not visible:
        abort(404)
    return row


def get_or_404(model, key, *, options=(), **owner):
    """The `model` row with primary key `key` whose attributes equal `owner` (`course_id=course.id`:
    an id of another course is "not found"), or 404. For views that cannot take `@load`."""
    row = db.session.get(model, key, options=options) if key is not None else None
    return found(row, row is not None and all(getattr(row, name) == value for name, value in owner.items()))


def load(model, parameter: str, *, name: str | None = None, get=None):
    """Replace the URL's `parameter` (an id) by the `model` row, or answer 404; passed on as `name`
    (default: the model's name in snake case, e.g. `training_class`). `get(id)` loads it another
    way (with a row lock, say)."""
    argument = name or "".join(f"_{c.lower()}" if c.isupper() else c for c in model.__name__).lstrip("_")

    def decorator(function):
        @wraps(function)
        def wrapper(*args, **kwargs):
            row = found((get or (lambda key: db.session.get(model, key)))(kwargs.pop(parameter)))
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
