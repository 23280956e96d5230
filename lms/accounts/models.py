"""People and what they may do."""

from flask import current_app, has_app_context
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from lms.accounts.scope import Scope
from lms.core.db import IdMixin, TimestampMixin, utcnow
from lms.extensions import db

AUDIENCES = ("citizen", "official", "cio")
ROLES = ("trainer", "manager", "librarian", "admin", "digital_team")  # digital_team: lms/community (issue 15)
# No scrypt hash starts with "!": such a hash never matches any password.
UNUSABLE_PASSWORD_PREFIX = "!"


class PersonMixin(UserMixin):
    """What a signed-in person answers the same way whether it is the ORM `User` or the light
    `lms.accounts.viewer.Viewer`: each provides `has_role` (from its grants, or from their roles)."""

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def has_role(self, role: str) -> bool:
        raise NotImplementedError

    @property
    def is_admin(self) -> bool:
        return self.has_role("admin")

    @property
    def login_name(self) -> str:
        return self.email or self.phone or ""

    def can_view(self, user) -> bool:
        return user is not None and (user.id == self.id or user.is_admin)


def password_hash_method() -> str:
    """scrypt, with the parameters LMS_PASSWORD_HASH gives (lms/config.py); a hash keeps its own, so
    changing them never locks anyone out."""
    return current_app.config.get("LMS_PASSWORD_HASH", "scrypt") if has_app_context() else "scrypt"


class User(IdMixin, TimestampMixin, PersonMixin, db.Model):
    __tablename__ = "users"

    full_name = db.Column(db.String(160), nullable=False)
    full_name_folded = db.Column(db.String(160), nullable=False, index=True)
    email = db.Column(db.String(254), unique=True)
    phone = db.Column(db.String(20), unique=True)
    password_hash = db.Column(db.String(255), nullable=False)
    audience = db.Column(db.String(16), nullable=False, default="citizen")
    # A self-declared "official" or "cio" waiting for a manager (lms.accounts.audiences): until then
    # `audience` stays "citizen", so the person neither counts in staff reports nor opens official courses.
    audience_requested = db.Column(db.String(16), index=True)
    locality_id = db.Column(db.Integer, db.ForeignKey("localities.id"), index=True)
    agency_id = db.Column(db.Integer, db.ForeignKey("agencies.id"), index=True)
    position = db.Column(db.String(160))
    # Folded copy for matching rules ("chuyen vien" finds "Chuyên viên").
    position_folded = db.Column(db.String(160), index=True)
    locale = db.Column(db.String(8))
    # Larger text chosen while logged in (issue 16): follows the account to every device it logs in on.
    text_size = db.Column(db.String(8))
    is_active = db.Column(db.Boolean, nullable=False, default=True)
    # Bumped on password change so other sessions of this user stop working.
    session_version = db.Column(db.Integer, nullable=False, default=1)
    # When an imported person was sent their set-password link (lms.accounts.tasks.invite_imported).
    invited_at = db.Column(db.DateTime)

    locality = db.relationship("Locality")
    agency = db.relationship("Agency")
    grants = db.relationship("RoleGrant", back_populates="user", cascade="all, delete-orphan", lazy="selectin")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=password_hash_method())

    def check_password(self, password: str) -> bool:
        if self.must_set_password:
            return False
        return check_password_hash(self.password_hash, password)

    @property
    def must_set_password(self) -> bool:
        """Imported accounts start with an unusable hash until the person sets a password by link."""
        return self.password_hash.startswith(UNUSABLE_PASSWORD_PREFIX)

    def has_role(self, role: str) -> bool:
        return any(g.role == role for g in self.grants)

    def manager_scopes(self) -> list:
        """Localities this user manages (subtrees)."""
        return [g.locality for g in self.grants if g.role == "manager" and g.locality is not None]

    def can_manage_locality(self, locality) -> bool:
        return Scope.of(self).covers_locality(locality)

    def agency_scopes(self) -> list:
        """Agencies whose subtree this user manages."""
        return [g.agency for g in self.grants if g.role == "manager" and g.agency is not None]

    def can_manage_agency(self, agency) -> bool:
        return Scope.of(self).covers_agency(agency)

    def can_manage_user(self, user) -> bool:
        """Admins everyone; managers the people of their locality or agency subtrees."""
        return Scope.of(self).covers_person(user)


class RoleGrant(IdMixin, TimestampMixin, db.Model):
    """A role, optionally scoped: a manager grant names the locality subtree it covers."""

    __tablename__ = "role_grants"
    __table_args__ = (db.UniqueConstraint("user_id", "role", "locality_id", "agency_id"),)

    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    role = db.Column(db.String(16), nullable=False)
    locality_id = db.Column(db.Integer, db.ForeignKey("localities.id"))
    agency_id = db.Column(db.Integer, db.ForeignKey("agencies.id"))

    user = db.relationship("User", back_populates="grants")
    locality = db.relationship("Locality", lazy="joined")
    agency = db.relationship("Agency", lazy="joined")


class LoginFailure(IdMixin, db.Model):
    """Failed log-ins per login name, for throttling that works across app hosts."""

    __tablename__ = "login_failures"
    login = db.Column(db.String(254), nullable=False, index=True)
    ip = db.Column(db.String(64))
    at = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)


class OneTimeCode(IdMixin, db.Model):
    """A 6-digit code sent by SMS (password reset, a new phone number). Only its HMAC is stored."""

    __tablename__ = "one_time_codes"

    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    purpose = db.Column(db.String(16), nullable=False)  # reset | phone
    target = db.Column(db.String(254), nullable=False)  # where it was sent (the new number for "phone")
    code_hash = db.Column(db.String(64), nullable=False)
    attempts = db.Column(db.Integer, nullable=False, default=0)
    expires_at = db.Column(db.DateTime, nullable=False)
    used_at = db.Column(db.DateTime)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class RecoveryRequest(IdMixin, db.Model):
    """One request for a reset link/code or a verification message, for rate limiting across hosts."""

    __tablename__ = "recovery_requests"

    key = db.Column(db.String(254), nullable=False, index=True)
    ip = db.Column(db.String(64), index=True)
    at = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)


class ExternalIdentity(IdMixin, db.Model):
    """An account at an OpenID provider (VNeID, the province's SSO, Google Workspace) linked to a user."""

    __tablename__ = "external_identities"
    __table_args__ = (db.UniqueConstraint("provider", "subject"),)

    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    provider = db.Column(db.String(40), nullable=False)
    subject = db.Column(db.String(255), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    last_login_at = db.Column(db.DateTime)


class SessionRecord(IdMixin, db.Model):
    """One signed-in browser (OWASP ASVS 3.3.4): the person sees and ends their sessions at /profile/sessions.

    `key` is random and travels in the signed session cookie; the user loader finds the live record
    by it in the same query as the user, so an ended record's cookie opens nothing on any host.
    """

    __tablename__ = "session_records"

    key = db.Column(db.String(64), nullable=False, unique=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    last_seen_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    user_agent = db.Column(db.String(255))
    ip = db.Column(db.String(45))
    ended_at = db.Column(db.DateTime)


def unusable_password_hash() -> str:
    """A hash no password matches (imported, erased or SSO-only accounts set theirs by link)."""
    import secrets

    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(18)
