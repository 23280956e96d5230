"""Single sign-on by OpenID Connect (authorization code + PKCE, with Authlib).

Providers come from the configuration (OIDC_PROVIDERS, docs/identity.md). Authlib keeps state,
nonce and the PKCE verifier in the session, checks the state on the way back, and validates the
ID token (signature from the provider's keys, issuer, audience, expiry, nonce). On top of that:
the discovery document must name the configured issuer, and an `iss` in the authorization
response (RFC 9207) must match it — a mix-up with another provider is refused.

Linking (each flushes; the caller commits): a known (provider, subject) is that user; otherwise a
*verified* e-mail or phone number from the provider finds the existing account that has it, which is
linked once the person confirms (and consents to the privacy notice if they never did); otherwise
a new account is made once the person gave what the provider did not (commune, audience).
"""

import logging

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import current_app, url_for
from requests import RequestException
from sqlalchemy import func, select

from lms.accounts.models import ExternalIdentity, User
from lms.accounts.operations import normalise_phone
from lms.core import audit
from lms.core.db import utcnow
from lms.extensions import db

log = logging.getLogger(__name__)


class SsoError(ValueError):
    """The sign-in could not be trusted or completed; the message is shown to the person."""


def init_app(app) -> None:
    oauth = OAuth(app)
    app.extensions["lms_oauth"] = oauth
    for name, settings in app.config.get("OIDC_PROVIDERS", {}).items():
        register_provider(app, name, settings)


def register_provider(app, name: str, settings: dict) -> None:
    app.config.setdefault("OIDC_PROVIDERS", {})[name] = settings
    oauth = app.extensions["lms_oauth"]
    oauth._clients.pop(name, None)  # a changed registration must not keep the old client (and its metadata)
    oauth.register(
        name, client_id=settings["client_id"], client_secret=settings.get("client_secret") or None,
        server_metadata_url=f"{settings['issuer']}/.well-known/openid-configuration",
        client_kwargs={"scope": settings.get("scope", "openid email phone profile"), "code_challenge_method": "S256",
                       "timeout": 10})


def providers() -> dict:
    return current_app.config.get("OIDC_PROVIDERS", {})


def client(name: str):
    if name not in providers():
        return None
    return current_app.extensions["lms_oauth"].create_client(name)


def check_issuer(name: str, response_iss: str | None) -> dict:
    """The provider's metadata, once its issuer is the configured one (and the response's, if given)."""
    metadata = client(name).load_server_metadata()
    expected = providers()[name]["issuer"]
    if metadata.get("issuer", "").rstrip("/") != expected:
        raise SsoError("issuer")
    if response_iss is not None and response_iss.rstrip("/") != expected:
        raise SsoError("issuer")
    return metadata


# ---------------------------------------------------------------- linking

def _verified_email(claims: dict) -> str | None:
    email = (claims.get("email") or "").strip().lower()
    return email if email and claims.get("email_verified") is True else None


def _verified_phone(claims: dict) -> str | None:
    phone = normalise_phone(claims.get("phone_number") or "")
    return phone if phone and claims.get("phone_number_verified") is True else None


def known_user(provider: str, claims: dict) -> User | None:
    """The account already linked to this (provider, subject), or None."""
    identity = db.session.scalar(select(ExternalIdentity).where(
        ExternalIdentity.provider == provider, ExternalIdentity.subject == str(claims["sub"])))
    if identity is None:
        return None
    identity.last_login_at = utcnow()
    return db.session.get(User, identity.user_id)


def linkable_user(claims: dict) -> User | None:
    """The existing account with the provider's *verified* e-mail or phone. It is linked only once
    the person confirmed it (and accepted the notice if they never had): `sso_views.confirm_link`."""
    user = None
    if email := _verified_email(claims):
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None and (phone := _verified_phone(claims)):
        user = db.session.scalar(select(User).where(User.phone == phone))
    return user


def link(user: User, provider: str, claims: dict) -> ExternalIdentity:
    identity = ExternalIdentity(user_id=user.id, provider=provider, subject=str(claims["sub"]), last_login_at=utcnow())
    db.session.add(identity)
    audit.record(user, "account.sso_linked", user, provider=provider)
    db.session.flush()
    return identity


def new_account_fields(claims: dict) -> dict:
    """What the provider gave that a new account can use (only verified addresses, not already taken)."""
    email, phone = _verified_email(claims), _verified_phone(claims)
    if email and db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        email = None
    if phone and db.session.scalar(select(User.id).where(User.phone == phone)):
        phone = None
    return {"sub": str(claims["sub"]), "name": (claims.get("name") or "").strip()[:160], "email": email,
            "phone": phone}


def create_account(provider: str, fields: dict, full_name: str, audience: str, locality) -> User:
    from lms.accounts.operations import create_user, unusable_password_hash

    user = create_user(full_name, "unused-placeholder", email=fields.get("email"), phone=fields.get("phone"),
                       audience=audience, locality=locality)
    # No password: the person signs in through the provider (and may set one later by "forgot password").
    user.password_hash, user.invited_at = unusable_password_hash(), utcnow()
    link(user, provider, {"sub": fields["sub"]})
    return user


def provider_logout_redirect(sso_session: dict | None):
    """After the local logout: the provider's end-session endpoint when it has one (RP-initiated logout)."""
    if not sso_session or client(sso_session.get("provider", "")) is None:
        return None
    provider = client(sso_session["provider"])
    try:
        if not provider.load_server_metadata().get("end_session_endpoint"):
            return None
        return provider.logout_redirect(post_logout_redirect_uri=url_for("catalog.index", _external=True),
                                      id_token_hint=sso_session.get("id_token"))
    except (RequestException, AuthlibBaseError, ValueError) as error:
        log.warning("OIDC logout at %s not possible: %s", sso_session.get("provider"), type(error).__name__)
        return None
