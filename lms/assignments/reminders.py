"""Deadline reminders and the managers' weekly digest, sent through `notify`.

Every notice has a dedupe key naming the enrollment, the deadline and the stage (or the manager
and the ISO week), so a beat job that runs twice, a retried task or a catch-up run never sends a
second copy; a moved deadline is a new deadline and is reminded again. `now` is injectable so
tests (and catch-up runs) can choose the clock.
"""

from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from lms.accounts.models import RoleGrant, User
from lms.accounts.scope import Scope
from lms.assignments.queries import overdue_clause
from lms.core.dates import local_today
from lms.core.notices import notify, notify_many
from lms.core.templating import format_date
from lms.enrollment.models import Enrollment
from lms.extensions import db
from lms.notifications.models import Notification

KIND = "deadline"
BATCH = 500


def stage_for(deadline: date, today: date) -> str | None:
    """Which reminder is due: '7d' within a week, '1d' on the last two days, 'overdue' after."""
    days_left = (deadline - today).days
    if days_left < 0:
        return "overdue"
    if days_left <= 1:
        return "1d"
    if days_left <= 7:
        return "7d"
    return None


def _message(enrollment: Enrollment, stage: str) -> tuple[str, str]:
    title, when = enrollment.course.title, format_date(enrollment.deadline)
    if stage == "overdue":
        return (_("Overdue: “%(title)s”", title=title),
                _("The deadline for the required course “%(title)s” was %(date)s. Please complete it as soon as "
                  "possible.", title=title, date=when))
    if stage == "1d":
        return (_("Due tomorrow: “%(title)s”", title=title),
                _("The required course “%(title)s” must be completed by %(date)s.", title=title, date=when))
    return (_("Due in a week: “%(title)s”", title=title),
            _("The required course “%(title)s” must be completed by %(date)s.", title=title, date=when))


def send_deadline_reminders(now: datetime | None = None) -> int:
    """Send the reminders due today; returns how many new notifications were made."""
    today = local_today(now)
    base = current_app.config["LMS_BASE_URL"]
    sent = 0
    last_id = 0
    while True:
        batch = db.session.scalars(
            select(Enrollment).join(User, User.id == Enrollment.user_id)
            .where(Enrollment.id > last_id, Enrollment.deadline.is_not(None), Enrollment.completed_at.is_(None),
                   Enrollment.deadline <= today + timedelta(days=7), User.is_active.is_(True))
            .options(joinedload(Enrollment.user), joinedload(Enrollment.course))
            .order_by(Enrollment.id).limit(BATCH)).all()
        if not batch:
            return sent
        last_id = batch[-1].id
        keys = {e.id: f"deadline:{e.id}:{e.deadline.isoformat()}:{stage_for(e.deadline, today)}" for e in batch}
        # One query per batch for the keys already used, and one multi-row insert for the new notices.
        done = set(db.session.scalars(select(Notification.dedupe_key).where(Notification.dedupe_key.in_(keys.values()))))
        items = []
        for enrollment in batch:
            key = keys[enrollment.id]
            if key in done:
                continue
            with force_locale(enrollment.user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
                subject, body = _message(enrollment, stage_for(enrollment.deadline, today))
            items.append({"user": enrollment.user, "kind": KIND, "subject": subject, "body": body, "dedupe_key": key,
                          "link": f"{base}/courses/{enrollment.course.slug}"})
        sent += notify_many(items)


def overdue_counts_for(manager: User, today: date) -> tuple[int, int]:
    """(people with overdue training, overdue enrollments) among the people this manager oversees."""
    scope = Scope.of_grants(manager)  # an admin's digest covers what their manager grants name, not everyone
    if scope.is_empty:
        return 0, 0
    people, rows = db.session.execute(
        select(func.count(func.distinct(Enrollment.user_id)), func.count(Enrollment.id))
        .join(User, User.id == Enrollment.user_id)
        .where(overdue_clause(today), User.is_active.is_(True), scope.people_clause(User.locality_id, User.agency_id))).one()
    return people or 0, rows or 0


def send_manager_digests(now: datetime | None = None) -> int:
    """Once per ISO week per manager with anything overdue in their scope."""
    today = local_today(now)
    year, week, _day = today.isocalendar()
    base = current_app.config["LMS_BASE_URL"]
    managers = db.session.scalars(select(User).where(User.is_active.is_(True), User.id.in_(
        select(RoleGrant.user_id).where(RoleGrant.role == "manager")))).all()
    sent = 0
    for manager in managers:
        key = f"digest:{manager.id}:{year}-W{week:02d}"
        if db.session.scalar(select(Notification.id).where(Notification.dedupe_key == key)):
            continue
        people, rows = overdue_counts_for(manager, today)
        if not people:
            continue
        with force_locale(manager.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
            subject = _("Weekly training digest: %(n)d people overdue", n=people)
            body = _("In your area, %(people)d people have %(rows)d required courses past their deadline (as of "
                     "%(date)s).", people=people, rows=rows, date=format_date(today))
        notify(manager, KIND, subject, body, dedupe_key=key, link=f"{base}/admin/assignments")
        sent += 1
    return sent
