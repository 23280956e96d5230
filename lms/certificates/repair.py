"""Completion repair: the sweep that finds earned certificates which do not exist or have no files.

The outbox already makes issuing survive faults; this is the belt to its braces — for work whose
message failed for good, data changed by hand or by an old version, or a signing key that was
missing for a while. It queues the same idempotent tasks (never twice while one is pending) and
records what it found for /healthz and the background-work page.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, case, exists, func, select

from lms.catalog.models import Course
from lms.certificates.models import Certificate
from lms.certificates.signing import key_problem
from lms.core import outbox
from lms.core.db import utcnow
from lms.core.models import OutboxMessage, WorkerMark
from lms.enrollment.models import Enrollment
from lms.extensions import db
from lms.programs.models import Program, ProgramCourse

# Leave fresh completions to the normal path (their message is in flight).
GRACE = timedelta(minutes=2)
BATCH = 1000
MARK = "repair.last"


def uncertified_enrollments(cutoff, limit: int = BATCH) -> list[int]:
    """Completed enrolments in certificate courses with no certificate issued since that completion."""
    certified = exists().where(Certificate.user_id == Enrollment.user_id, Certificate.course_id == Enrollment.course_id,
                               Certificate.issued_at >= Enrollment.completed_at)
    return list(db.session.scalars(
        select(Enrollment.id).join(Course, Course.id == Enrollment.course_id)
        .where(Course.certificate.is_(True), Enrollment.completed_at.is_not(None), Enrollment.completed_at <= cutoff,
               ~certified)
        .order_by(Enrollment.id).limit(limit)))


def uncertified_program_completions(limit: int = BATCH) -> list[tuple[int, int]]:
    """(user id, program id) for every completed program with a certificate that was never issued."""
    found = []
    for program in db.session.scalars(select(Program).where(Program.certificate.is_(True))):
        required = sum(1 for link in program.courses if link.required)
        done = (select(Enrollment.user_id)
                .join(ProgramCourse, and_(ProgramCourse.course_id == Enrollment.course_id,
                                          ProgramCourse.program_id == program.id))
                .where(Enrollment.completed_at.is_not(None),
                       ~exists().where(Certificate.user_id == Enrollment.user_id, Certificate.program_id == program.id))
                .group_by(Enrollment.user_id)
                .having(func.sum(case((ProgramCourse.required, 1), else_=0)) == required,
                        func.sum(case((ProgramCourse.required, 0), else_=1)) >= program.optional_required)
                .limit(limit - len(found)))
        found += [(user_id, program.id) for user_id in db.session.scalars(done)]
        if len(found) >= limit:
            break
    return found


def unrendered_certificates(cutoff, limit: int = BATCH) -> list[int]:
    return list(db.session.scalars(
        select(Certificate.id).where(Certificate.superseded_by_id.is_(None), Certificate.issued_at <= cutoff,
                                     Certificate.holder_erased_at.is_(None),
                                     (Certificate.pdf_key.is_(None)) | (Certificate.credential_json.is_(None)))
        .order_by(Certificate.id).limit(limit)))


def _pending_keys(task: str) -> set[str]:
    return set(db.session.scalars(select(OutboxMessage.dedupe_key).where(
        OutboxMessage.task == task, OutboxMessage.state.in_(outbox.OPEN_STATES))))


def _queue(task: str, kwargs_list: list[dict]) -> int:
    pending = _pending_keys(task)
    fresh = [kwargs for kwargs in kwargs_list if outbox.work_key(task, kwargs) not in pending]
    outbox.enqueue_many(task, fresh)
    return len(fresh)


def sweep() -> dict:
    """Find and queue what is missing; flush only (the task commits). Returns the findings."""
    cutoff = utcnow() - GRACE
    enrollments = uncertified_enrollments(cutoff)
    programs = uncertified_program_completions()
    unrendered = unrendered_certificates(cutoff)
    queued = _queue("certificates.issue", [{"enrollment_id": i} for i in enrollments])
    queued += _queue("certificates.issue_program", [{"user_id": u, "program_id": p} for u, p in programs])
    # Without a usable key every render fails: count them, but do not queue work that cannot succeed.
    signing_ok = key_problem(current_app.config) is None
    if signing_ok:
        queued += _queue("certificates.render", [{"certificate_id": i} for i in unrendered])
    findings = {"course_certificates_missing": len(enrollments), "program_certificates_missing": len(programs),
                "files_missing": len(unrendered), "queued": queued, "signing_ok": signing_ok}
    mark = db.session.get(WorkerMark, MARK) or WorkerMark(name=MARK)
    mark.at, mark.detail = utcnow(), findings
    db.session.add(mark)
    db.session.flush()
    return findings
