"""State changes for classes. Each flushes; the caller commits."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.classes.models import ATTENDANCE, Attendance, ClassMember, ClassSession, TrainingClass
from lms.core import audit
from lms.core.db import utcnow
from lms.core.notices import notify
from lms.core.permissions import can
from lms.core.signals import course_assigned
from lms.core.text import nfc
from lms.extensions import db


class ClassError(ValueError):
    """A rule about classes was broken; the message is shown to the user."""


def create_class(course, title: str, trainer, locality=None, place: str = "", actor=None) -> TrainingClass:
    training_class = TrainingClass(course=course, title=nfc(title), trainer=trainer, locality=locality,
                                   place=nfc(place) or None)
    db.session.add(training_class)
    db.session.flush()
    audit.record(actor, "class.create", training_class, course_id=course.id)
    return training_class


def can_enrol(training_class: TrainingClass, actor, user) -> bool:
    """May `actor` put `user` on this class's roster? Admins anyone; others only learners within
    their reach — the class's commune or ward (with its subtree) or the actor's own manager scopes —
    and never an administrator."""
    if can("administer", actor):
        return True
    if can("administer", user) or not user.is_active:
        return False
    place = training_class.locality
    if place is not None and user.locality is not None and place.contains(user.locality):
        return True
    return actor.can_manage_user(user)


def add_session(training_class: TrainingClass, starts_at, hours=2, topic: str = "") -> ClassSession:
    session = ClassSession(training_class=training_class, starts_at=starts_at, hours=hours, topic=nfc(topic) or None)
    db.session.add(session)
    db.session.flush()
    audit.record(None, "class.session_add", training_class, session_id=session.id, starts_at=str(starts_at), hours=hours)
    return session


def add_member(training_class: TrainingClass, user, actor=None) -> ClassMember:
    """Put a learner on the roster (idempotent), enrol them in the course and tell them."""
    member = db.session.scalar(select(ClassMember).where(ClassMember.class_id == training_class.id,
                                                         ClassMember.user_id == user.id))
    if member is not None:
        return member
    member = ClassMember(training_class=training_class, user=user)
    db.session.add(member)
    course_assigned.send(user, course=training_class.course, source="assigned")  # enrollment enrols
    db.session.flush()
    notify(user, "class", str(_l("You were added to the class “%(title)s”", title=training_class.title)),
           str(_l("Course: %(course)s. Place: %(place)s.", course=training_class.course.title,
                  place=training_class.place or "—")),
           dedupe_key=f"class:{training_class.id}:member:{user.id}")
    audit.record(actor, "class.add_member", training_class, user_id=user.id)
    return member


def remove_member(training_class: TrainingClass, user_id: int) -> None:
    member = db.session.scalar(select(ClassMember).where(ClassMember.class_id == training_class.id,
                                                         ClassMember.user_id == user_id))
    if member is not None:
        db.session.delete(member)
        db.session.flush()
        audit.record(None, "class.remove_member", training_class, user_id=user_id)


def record_attendance(session: ClassSession, statuses: dict, actor) -> int:
    """statuses: {user_id: "present"|"absent"|"excused"} for roster members; returns rows written."""
    roster = {m.user_id for m in session.training_class.members}
    existing = {a.user_id: a for a in session.attendance}
    written, before, after = 0, {}, {}
    for user_id, status in statuses.items():
        if user_id not in roster:
            continue
        if status not in ATTENDANCE:
            raise ClassError(_l("Unknown attendance status."))
        record = existing.get(user_id)
        if record is None:
            db.session.add(Attendance(session=session, user_id=user_id, status=status,
                                      recorded_by_id=getattr(actor, "id", None)))
        elif record.status != status:
            before[str(user_id)] = record.status
            record.status, record.recorded_by_id, record.recorded_at = status, getattr(actor, "id", None), utcnow()
        else:
            continue
        after[str(user_id)] = status
        written += 1
    db.session.flush()
    if written:
        audit.record(actor, "class.attendance", session.training_class, before=before, after=after,
                     session_id=session.id)
    return written
