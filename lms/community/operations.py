"""Team members, residents registered on their behalf, assisted sessions. Flush only; views commit."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update

from lms.accounts import operations as accounts
from lms.accounts.models import User
from lms.community.models import CONSENT_METHODS, TEAM_ROLE, AssistedSession, CommuneContact, CommunityResident
from lms.core.db import insert_ignoring_conflict, utcnow
from lms.core.text import nfc
from lms.extensions import db


class CommunityError(ValueError):
    """A rule of assisted learning was broken; the message is shown to the user."""


def team_scopes(user) -> list:
    """The communes where the user is a community digital team member."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [g.locality for g in user.grants if g.role == TEAM_ROLE and g.locality is not None]


def serves(member, locality) -> bool:
    return locality is not None and any(scope.contains(locality) for scope in team_scopes(member))


def grant_team_role(manager, user: User, commune) -> None:
    """A commune's manager (or an admin) makes someone a team member of that commune."""
    if commune is None or commune.level != "commune":
        raise CommunityError(_l("Choose a commune or ward."))
    if not manager.can_manage_locality(commune):
        raise CommunityError(_l("You do not manage this commune."))
    accounts.grant_role(user, TEAM_ROLE, locality=commune, actor=manager)


def register_resident(member, *, full_name: str, phone: str, commune, hamlet: str, consent_method: str,
                      consent_reference: str) -> CommunityResident:
    """Create a resident's account on their behalf, with their consent recorded."""
    if not serves(member, commune):
        raise CommunityError(_l("You can only register residents of your own commune."))
    consent_reference = nfc(consent_reference or "").strip()
    if consent_method not in CONSENT_METHODS or not consent_reference:
        raise CommunityError(_l("Record the resident's consent: the number of the signed paper form."))
    if consent_method == "sms":
        # The platform sends no SMS yet; a code typed here could not have come from the resident's phone.
        raise CommunityError(_l("Consent by SMS code is not available yet; record the signed paper form."))
    user = accounts.create_user(full_name, "", phone=phone, audience="citizen", locality=commune)
    user.password_hash = accounts.unusable_password_hash()  # they set their own password from the hand-over link
    resident = CommunityResident(user=user, registered_by_id=member.id, locality=commune,
                                 hamlet=nfc(hamlet or "").strip() or None, consent_method=consent_method,
                                 consent_reference=consent_reference[:120])
    db.session.add(resident)
    db.session.flush()
    return resident


def resident_record(user_id: int) -> CommunityResident | None:
    return db.session.scalar(select(CommunityResident).where(CommunityResident.user_id == user_id))


def can_see_resident(member, user_id: int) -> bool:
    """A member sees the residents they registered or assisted — no others."""
    return bool(db.session.scalar(select(CommunityResident.id).where(
        CommunityResident.user_id == user_id, CommunityResident.registered_by_id == member.id))
        or db.session.scalar(select(AssistedSession.id).where(
            AssistedSession.resident_id == user_id, AssistedSession.member_id == member.id).limit(1)))


def start_session(member, resident: CommunityResident) -> AssistedSession:
    if not serves(member, resident.locality):
        raise CommunityError(_l("You can only assist residents of your own commune."))
    session = AssistedSession(member_id=member.id, resident_id=resident.user_id)
    db.session.add(session)
    db.session.flush()
    return session


def end_session(session_id: int) -> AssistedSession | None:
    session = db.session.get(AssistedSession, session_id)
    if session is not None and session.ended_at is None:
        session.ended_at = utcnow()
        db.session.flush()
    return session


def my_residents(member) -> list[CommunityResident]:
    assisted = select(AssistedSession.resident_id).where(AssistedSession.member_id == member.id)
    return list(db.session.scalars(select(CommunityResident).where(or_(
        CommunityResident.registered_by_id == member.id, CommunityResident.user_id.in_(assisted)))
        .order_by(CommunityResident.id)))


def was_assisted(user_id: int, at) -> bool:
    """Whether something the user did at `at` was done in an assisted session (results, certificates)."""
    if at is None:
        return False
    return bool(db.session.scalar(select(AssistedSession.id).where(
        AssistedSession.resident_id == user_id, AssistedSession.started_at <= at,
        or_(AssistedSession.ended_at.is_(None), AssistedSession.ended_at >= at)).limit(1)))


def set_contact(manager, commune, *, phone: str, place: str, hours: str) -> None:
    """The commune's help contact for its residents' home page; only its manager (or an admin) sets it."""
    if commune is None or commune.level != "commune":
        raise CommunityError(_l("Choose a commune or ward."))
    if not manager.can_manage_locality(commune):
        raise CommunityError(_l("You do not manage this commune."))
    values = {"phone": nfc(phone or "").strip(), "place": nfc(place or "").strip(), "hours": nfc(hours or "").strip()}
    insert_ignoring_conflict(CommuneContact, {"locality_id": commune.id, **values, "updated_at": utcnow()},
                             ("locality_id",))
    db.session.execute(update(CommuneContact).where(CommuneContact.locality_id == commune.id)
                       .values(**values, updated_at=utcnow()))
