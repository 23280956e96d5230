from celery import shared_task

from lms.extensions import db


@shared_task(name="assignments.apply_all")
def apply_all():
    """Nightly safety net: anyone a rule should have reached (e.g. changed by SQL) gets it now."""
    from lms.assignments.operations import apply_all_rules

    created = apply_all_rules()
    db.session.commit()
    return created


@shared_task(name="assignments.apply_for_user")
def apply_for_user(user_id: int):
    from lms.accounts.models import User
    from lms.assignments.operations import apply_rules_for_user

    user = db.session.get(User, user_id)
    if user is None:
        return 0
    created = apply_rules_for_user(user)
    db.session.commit()
    return created


@shared_task(name="assignments.reminders")
def reminders():
    from lms.assignments.reminders import send_deadline_reminders

    sent = send_deadline_reminders()
    db.session.commit()
    return sent


@shared_task(name="assignments.digest")
def digest():
    from lms.assignments.reminders import send_manager_digests

    sent = send_manager_digests()
    db.session.commit()
    return sent
