"""Access decorators, stackable, answering HTML and JSON clients differently.

Permission *logic* lives on the models (`can_view`, `can_manage`); these helpers only
enforce it, so views never open-code a role check.
"""

from functools import wraps

from flask import abort, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user


def wants_json(asked=None) -> bool:
    """Whether the request (`asked`, default Flask's current one) is answered in JSON."""
    asked = request if asked is None else asked
    if asked.path.startswith("/api/") or asked.path.endswith(".json"):
        return True
    best = asked.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and asked.accept_mimetypes[best] > asked.accept_mimetypes["text/html"]


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            if wants_json():
                return jsonify(error="unauthorized", message=_("Please log in.")), 401
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def role_required(*roles):
    """Require one of the roles (admin always passes). Stack under @login_required."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_required(view)(*args, **kwargs)
            if not (current_user.is_admin or any(current_user.has_role(r) for r in roles)):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


# What a role lets someone do, in one place: views, queries and templates ask `can(ability)`
# (a template global) instead of naming roles. Rules about one object stay on its model (`can_*`).
ABILITIES = {
    "administer": lambda user: user.is_admin,
    "teach": lambda user: user.is_admin or user.has_role("trainer"),
    "oversee": lambda user: user.is_admin or user.has_role("manager"),
    "be_assigned_classes": lambda user: user.has_role("trainer"),  # a class's trainer: the role itself
    "assist_residents": lambda user: user.has_role("digital_team"),  # community digital teams (lms/community)
    "curate_library": lambda user: user.is_admin or user.has_role("librarian"),  # lms/library
}


def can(ability: str, user=None) -> bool:
    """Whether `user` (default: the person of this request) has a role that allows `ability`."""
    user = current_user if user is None else user
    return bool(user and user.is_authenticated and ABILITIES[ability](user))


def require(allowed: bool) -> None:
    """Abort with 403 unless the model's permission method allowed the action."""
    if not allowed:
        abort(403)
