"""Team members, residents registered on their behalf, assisted sessions. Flush only; views commit."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from lms.accounts import recovery
from lms.accounts.models import User
from lms.accounts.queries import normalise_phone
from lms.community import queries
from lms.community.models import (
    CONSENT_METHODS,
    TEAM_ROLE,
    AssistedSession,
    CommuneContact,
    CommunityResident,
    Hamlet,
)
from lms.core.db import insert_ignoring_conflict, utcnow
from lms.core.signals import account_requested, answer, role_requested, target_requested
from lms.core.text import nfc
from lms.extensions import db


class CommunityError(ValueError):
    """A rule of assisted learning was broken; the message is shown to the user."""


class ConsentCodeError(CommunityError):
    """The resident's SMS consent code was wrong or stale; the wrong try is counted (the caller commits)."""


# One-time codes are the accounts' own (6 digits, OTP_LIFETIME_SECONDS, OTP_MAX_ATTEMPTS, HMAC only), kept
# under the member: the resident has no account until the code is confirmed, and the row's target is the phone.
CONSENT_PURPOSE = "consent"


def grant_team_role(manager, user: User, commune) -> None:
    """A commune's manager (or an admin) makes someone a team member of that commune."""
    if commune is None or commune.level != "commune":
        raise CommunityError(_l("Choose a commune or ward."))
    if not manager.can_manage_locality(commune):
        raise CommunityError(_l("You do not manage this commune."))
    answer(role_requested, manager, user=user, role=TEAM_ROLE, locality=commune)  # accounts grants it


def send_consent_code(member, phone: str, commune, ip: str | None) -> str:
    """Text a 6-digit consent code to the resident's own phone; the number it went to (normalised)."""
    if not queries.serves(member, commune):
        raise CommunityError(_l("You can only register residents of your own commune."))
    number = normalise_phone(phone)
    if number is None:
        raise CommunityError(_l("Enter a valid Vietnamese mobile number, e.g. 0912 345 678."))
    if recovery.too_many_requests(f"consent:{number}", ip):
        raise CommunityError(_l("Too many codes were sent to this number. Wait 15 minutes, or record a paper form."))
    recovery.send_code_for(member, CONSENT_PURPOSE, number, lambda code: _(
        "%(code)s: read this code to the community digital team member only if you agree that they register you "
        "on the training platform. It works for 5 minutes.", code=code))
    return number


def _sms_consent(member, phone: str, code: str) -> str:
    """The consent reference for a code the resident read back; never the code itself."""
    number = normalise_phone(phone)
    try:
        row = recovery.check_code(member, CONSENT_PURPOSE, code)
    except recovery.CodeProblem as problem:
        raise ConsentCodeError(str(problem)) from None
    if row.target != number:
        raise ConsentCodeError(_("That code was sent to another phone number. Send a new code."))
    return f"SMS …{number[-3:]} #{row.id}"


def register_resident(member, *, full_name: str, phone: str, commune, hamlet: str, consent_method: str,
                      consent_reference: str = "", consent_code: str = "") -> CommunityResident:
    """Create a resident's account on their behalf, with their consent recorded (paper form or SMS code)."""
    if not queries.serves(member, commune):
        raise CommunityError(_l("You can only register residents of your own commune."))
    hamlet = check_hamlet(commune, hamlet)
    if consent_method == "sms":
        consent_reference = _sms_consent(member, phone, consent_code)
    consent_reference = nfc(consent_reference or "").strip()
    if consent_method not in CONSENT_METHODS or not consent_reference:
        raise CommunityError(_l("Record the resident's consent: the number of the signed paper form."))
    try:  # accounts makes it with no usable password: they set their own from the hand-over link
        user = answer(account_requested, member, full_name=full_name, phone=phone, audience="citizen", locality=commune)
    except ValueError as error:  # accounts refused it (the phone is taken): its message is for the user
        raise CommunityError(str(error)) from None
    resident = CommunityResident(user=user, registered_by_id=member.id, locality=commune,
                                 hamlet=hamlet, consent_method=consent_method,
                                 consent_reference=consent_reference[:120])
    db.session.add(resident)
    db.session.flush()
    return resident


def hand_over_by_sms(resident: CommunityResident, ip: str | None) -> str:
    """Send the resident's own set-password link to their phone; the masked number it went to."""
    user = resident.user
    if not user.must_set_password:
        raise CommunityError(_l("The resident has already chosen their own password."))
    if not user.phone:
        raise CommunityError(_l("The resident has no phone number."))
    if recovery.too_many_requests(f"handoff:{user.id}", ip):
        raise CommunityError(_l("The link was sent several times already. Wait 15 minutes, or let them scan the QR code."))
    recovery.send_set_password_link(user)
    return "…" + user.phone[-3:]


def start_session(member, resident: CommunityResident) -> AssistedSession:
    if not queries.serves(member, resident.locality):
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


def set_target(manager, commune, *, reached: int, completed: int, counts: str, due_on=None):
    """A manager whose scope covers the commune sets its coverage target for a group (all, assisted or self):
    `reached` residents (a population at 100 %) and `completed` of them completing a course — one row of the
    platform's target model (lms.targets), the same the reports show."""
    from lms.targets.models import TARGET_GROUPS

    if commune is None or commune.level != "commune" or not manager.can_manage_locality(commune):
        raise CommunityError(_l("You do not manage this commune."))
    if counts not in TARGET_GROUPS or reached < 1 or completed < 0 or completed > reached:
        raise CommunityError(_l("Targets are whole numbers; residents completing cannot exceed residents reached."))
    try:
        return answer(target_requested, manager, unit=commune, audience="citizen", population=reached,
                      target_percent=100, due_on=due_on, counts=counts, completed=completed)
    except ValueError as error:
        raise CommunityError(str(error)) from None


MAX_HAMLETS = 500  # a commune has tens; a longer file is a mistake (a whole province's list?)


def import_hamlets(manager, commune, text: str) -> int:
    """Add a commune's hamlets from CSV text (first column; a header row `name`/`tên` is skipped).
    Existing names stay (residents keep theirs as text anyway); the number of names added."""
    import csv
    import io

    if commune is None or commune.level != "commune" or (manager is not None and not manager.can_manage_locality(commune)):
        raise CommunityError(_l("You do not manage this commune."))
    names: list[str] = []
    for line, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        name = nfc(row[0] if row else "").strip()
        if name and name.lower() not in {"name", "tên", "ten", "thôn, ấp, khu phố"} and name not in names:
            if len(name) > 120:
                raise CommunityError(_l("Line %(line)d: a name is longer than 120 characters.", line=line))
            names.append(name)
    if not names or len(names) > MAX_HAMLETS:
        raise CommunityError(_l("The file should list 1 to %(most)d hamlets, one per line.", most=MAX_HAMLETS))
    known = set(db.session.scalars(select(Hamlet.name).where(Hamlet.locality_id == commune.id)))
    fresh = [name for name in names if name not in known]
    db.session.add_all(Hamlet(locality_id=commune.id, name=name) for name in fresh)
    db.session.flush()
    return len(fresh)


def check_hamlet(commune, hamlet: str) -> str | None:
    """The hamlet as saved: one of the commune's list when it has one, else the text typed."""
    hamlet = nfc(hamlet or "").strip() or None
    listed = set(db.session.scalars(select(Hamlet.name).where(Hamlet.locality_id == commune.id)))
    if hamlet and listed and hamlet not in listed:
        raise CommunityError(_l("Choose a hamlet of this commune from the list."))
    return hamlet


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
