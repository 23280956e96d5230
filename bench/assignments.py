"""Assignment rules and deadline reminders at province scale (issue 6).

    createdb -h 127.0.0.1 -U postgres bench_i6c
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_i6c .venv/bin/python bench/assignments.py [--rows 50000]
    dropdb -h 127.0.0.1 -U postgres bench_i6c

Uses a throw-away PostgreSQL database (create_all). Loads ROWS officials with the bulk-import
code path of bench/import_people.py (agency BENCH), a bench course, then times:
1. saving and applying a rule "officials of agency BENCH, deadline in 5 days" (set-based
   INSERT … SELECT: one statement for everyone), and applying it again (nothing new);
2. the reminder job over the ROWS assigned enrollments (all due "in a week"), then the same job
   again (every reminder already sent: the dedupe keys make it a no-op);
3. `apply_rules_for_user` for one person (what registration, import and profile changes call).
Removes the bench accounts, course and rule at the end.
"""

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.import_people import encode, make_rows  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL to a throw-away PostgreSQL database")
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production")

    from sqlalchemy import delete, func, select

    from lms import create_app
    from lms.accounts.models import User
    from lms.agencies import queries as agency_queries
    from lms.agencies.operations import import_agencies_csv
    from lms.assignments import operations
    from lms.assignments.models import AssignmentRule
    from lms.assignments.reminders import local_today, send_deadline_reminders
    from lms.catalog.models import Course
    from lms.core.models import OutboxMessage
    from lms.enrollment.models import Enrollment
    from lms.extensions import db
    from lms.imports.mapping import detect
    from lms.imports.operations import apply_plan, plan_import
    from lms.imports.reader import read_table
    from lms.localities.models import Locality
    from lms.localities.operations import load_localities
    from lms.notifications.models import Notification

    app = create_app({"CELERY_EAGER": True})

    def cleanup():
        course_id = db.session.scalar(select(Course.id).where(Course.slug == "bench-assigned"))
        people = select(User.id).where(User.email.like("bench%@bench.vn"))
        db.session.execute(delete(Notification).where(Notification.user_id.in_(people)))
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.task == "notifications.send_email"))
        if course_id:
            db.session.execute(delete(Enrollment).where(Enrollment.course_id == course_id))
            db.session.execute(delete(AssignmentRule).where(AssignmentRule.course_id == course_id))
            db.session.execute(delete(Course).where(Course.id == course_id))
        db.session.execute(delete(User).where(User.email.like("bench%@bench.vn")))
        db.session.commit()

    with app.app_context():
        db.create_all()
        if not db.session.scalar(select(func.count(Locality.id))):
            load_localities()
        import_agencies_csv("code,name\nBENCH,Cơ quan thử tải\n".encode())
        db.session.commit()
        cleanup()
        communes = list(db.session.scalars(select(Locality.code).where(
            Locality.scheme == "2025-07", Locality.level == "commune").limit(200)))
        headers, rows = make_rows(args.rows, communes)
        data, name = encode(headers, rows, False)
        headers, rows = read_table(data, name)
        started = time.perf_counter()
        counts = apply_plan(plan_import(headers, rows, detect(headers)))
        db.session.commit()
        print(f"setup: {counts} in {time.perf_counter() - started:.1f} s")
        course = Course(slug="bench-assigned", code="BENCH-ASSIGNED", title="An toàn thông tin (thử tải)",
                        title_folded="an toan thong tin (thu tai)", status="published")
        db.session.add(course)
        db.session.commit()

        def timed(label, work):
            started = time.perf_counter()
            result = work()
            db.session.commit()
            print(f"{label:44} {time.perf_counter() - started:6.2f} s  -> {result}")
            return result

        deadline = local_today() + timedelta(days=5)
        agency = agency_queries.by_code("BENCH")

        def save_and_apply():
            rule = operations.save_rule(actor=None, deadline=deadline, course=course, audience="official",
                                        agency=agency)
            return operations.apply_rule(rule)

        timed("rule saved + applied (INSERT … SELECT)", save_and_apply)
        rule = db.session.scalar(select(AssignmentRule).where(AssignmentRule.course_id == course.id))
        timed("same rule applied again", lambda: operations.apply_rule(rule))
        timed("reminder job, first run", send_deadline_reminders)
        timed("reminder job, same day again", send_deadline_reminders)
        one = db.session.scalar(select(User).where(User.email == "bench1@bench.vn"))
        timed("apply_rules_for_user (one person)", lambda: operations.apply_rules_for_user(one))
        cleanup()


if __name__ == "__main__":
    main()
