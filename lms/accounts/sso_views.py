"""Sign-in through an OpenID provider, first-login completion, and RP-initiated logout."""

import logging

from authlib.common.errors import AuthlibBaseError
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from joserfc.errors import JoseError
from requests import RequestException

from lms.accounts import operations, sso
from lms.accounts.controllers import _locality_choices
from lms.accounts.forms import SsoCompleteForm, SsoLinkForm
from lms.accounts.models import User
from lms.core.db import write_from_here
from lms.core.lifecycle import discard, found, view
from lms.core.signals import account_created, answer, consent_accepted, consent_asked
from lms.core.urls import is_safe_next
from lms.extensions import db
from lms.localities.models import Locality

log = logging.getLogger(__name__)
_PENDING, _SSO, _NEXT, _LINK = "sso_pending", "sso", "sso_next", "sso_link"


@view
def login_with(name):
    client = found(sso.client(name))
    target = request.args.get("next")
    session[_NEXT] = target if is_safe_next(target) else None
    try:
        sso.check_issuer(name, None)
        return client.authorize_redirect(url_for("accounts.sso_callback", name=name, _external=True))
    except sso.SsoError:
        log.warning("OIDC provider %s refused: its discovery document names another issuer", name)
        return _failed(name)
    except (RequestException, ValueError) as error:
        log.warning("OIDC provider %s unreachable: %s", name, type(error).__name__)
        return _failed(name, 503)


def _reason(error: Exception) -> str:
    """The error code an OAuth/JOSE error carries ("mismatching_state", "invalid_grant", a claim name):
    enough to tell a lost session from an expired code in the log, and never a token or a code."""
    if isinstance(error, (AuthlibBaseError, JoseError)):
        return f"{getattr(error, 'error', '')}: {getattr(error, 'description', '') or ''}"[:200]
    return ""


def _failed(name: str, status: int = 400):
    label = sso.providers().get(name, {}).get("label", name)
    return render_template("accounts/sso_failed.html", label=label, name=name), status


def _claims(name: str) -> tuple[dict, str]:
    """The verified claims and the ID token, or SsoError/AuthlibBaseError/JoseError when untrustworthy."""
    client = sso.client(name)
    metadata = sso.check_issuer(name, request.args.get("iss"))
    token = client.authorize_access_token(leeway=current_app.config["OIDC_LEEWAY_SECONDS"])
    claims = dict(token.get("userinfo") or {})
    if not claims.get("sub"):
        raise sso.SsoError("no verified ID token")
    if metadata.get("userinfo_endpoint"):
        extra = dict(client.userinfo(token=token))
        if extra.get("sub") == claims["sub"]:
            claims = {**extra, **claims}
    return claims, token["id_token"]


@view
def callback(name):
    found(sso.client(name))
    try:
        claims, id_token = _claims(name)
    except (sso.SsoError, AuthlibBaseError, JoseError, RequestException, KeyError, ValueError) as error:
        # The reason goes to the log (never a token or code); the person gets a plain message.
        log.warning("OIDC sign-in with %s refused: %s %s", name, type(error).__name__, _reason(error))
        discard()
        return _failed(name)
    write_from_here()  # the code is redeemed: the view must not be run again for a busy SQLite
    user = sso.known_user(name, claims)
    candidate = sso.linkable_user(claims) if user is None else None
    if candidate is not None and not candidate.is_active:
        discard()
        return _failed(name, 403)
    if candidate is not None:
        session[_LINK] = {"provider": name, "id_token": id_token, "sub": str(claims["sub"]), "user_id": candidate.id}
        return redirect(url_for("accounts.sso_link"))
    if user is None:
        session[_PENDING] = {"provider": name, "id_token": id_token, **sso.new_account_fields(claims)}
        return redirect(url_for("accounts.sso_complete"))
    if not user.is_active:
        discard()
        return _failed(name, 403)
    return _sign_in(user, name, id_token)


def _sign_in(user, name: str, id_token: str):
    login_user(user)
    session[_SSO] = {"provider": name, "id_token": id_token}
    session["lang"] = user.locale or session.get("lang")
    flash(_("Welcome, %(name)s!", name=user.full_name), "success")
    return redirect(session.pop(_NEXT, None) or url_for("enrollment.my_learning"))


@view
def complete():
    pending = session.get(_PENDING)
    if not pending or current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    form = SsoCompleteForm(full_name=pending.get("name") or None)
    needs_login = not (pending.get("email") or pending.get("phone"))
    form.locality_id.choices, match_count = _locality_choices(form)
    context = {"form": form, "pending": pending, "needs_login": needs_login,
               "label": sso.providers().get(pending["provider"], {}).get("label", pending["provider"])}
    if request.method == "POST" and form.search.data:
        if match_count == 0:
            form.locality_q.errors = [_("No commune or ward matches “%(q)s”.", q=form.locality_q.data or "")]
        return render_template("accounts/sso_complete.html", **context)
    if form.validate_on_submit():
        fields = dict(pending)
        if needs_login:
            fields["email"], fields["phone"] = operations.split_login(form.login.data or "")
        try:
            user = sso.create_account(pending["provider"], fields, form.full_name.data, form.audience.data,
                                      db.session.get(Locality, form.locality_id.data))
        except operations.AccountError as error:
            form.login.errors.append(str(error))
        else:
            user.locale = session.get("lang") or current_app.config["BABEL_DEFAULT_LOCALE"]
            account_created.send(user, via="sso")  # privacy records the consent, assignments apply
            session.pop(_PENDING, None)
            return _sign_in(user, pending["provider"], pending["id_token"])
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/sso_complete.html", **context), status


@view
def confirm_link():
    """First SSO sign-in that matches an existing account: the person agrees to link them (and to the
    privacy notice, if this account never gave consent); both are recorded."""
    pending = session.get(_LINK)
    user = db.session.get(User, pending["user_id"]) if pending else None
    if user is None or not user.is_active or current_user.is_authenticated:
        session.pop(_LINK, None)
        return redirect(url_for("accounts.login"))
    form = SsoLinkForm(needs_consent=not answer(consent_asked, user))  # privacy answers
    label = sso.providers().get(pending["provider"], {}).get("label", pending["provider"])
    if form.validate_on_submit():
        sso.link(user, pending["provider"], {"sub": pending["sub"]})
        if form.needs_consent:
            consent_accepted.send(user, via="sso-link")  # privacy records it
        session.pop(_LINK, None)
        return _sign_in(user, pending["provider"], pending["id_token"])
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/sso_link.html", form=form, label=label, login=user.login_name), status
