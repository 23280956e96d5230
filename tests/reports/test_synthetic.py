"""The synthetic province generator (small), then the summary on top of it."""

from sqlalchemy import func, select

from lms.accounts.models import User
from lms.certificates.models import Certificate
from lms.enrollment.models import Enrollment, LessonProgress
from lms.localities.models import Locality
from lms.localities.queries import home_area
from lms.reports import queries
from lms.reports.summary import refresh
from lms.reports.synthetic import generate


def test_synthetic_province_is_realistic_and_adds_up(db_session):
    counts = generate(users=60, enrollments=300, progress_per_enrollment=5, seed=7, echo=lambda *_: None)
    assert counts["enrollments"] == 300 and counts["lesson progress"] > 300

    names = db_session.scalars(select(User.full_name).where(User.email.like("syn7-%"))).all()
    assert len(names) == 60 and any(ch in "".join(names) for ch in "ễịầạđĐốưở")
    old_recorded = db_session.scalar(select(func.count(Enrollment.id)).join(Locality, Locality.id == Enrollment.locality_id)
                                     .where(Locality.scheme == "2025-01"))
    assert old_recorded > 0  # both schemes
    assert db_session.scalar(select(func.count(LessonProgress.id))) == counts["lesson progress"]

    refresh()
    area = home_area()
    for mode in queries.MODES:
        total = queries.totals(queries.coverage(area, mode))
        in_area = db_session.scalar(
            select(func.count(Enrollment.id)).join(Locality, Locality.id == Enrollment.locality_id)
            .where(queries.scope_condition(Locality, area)))
        assert total.enrolled == in_area and 0 < total.enrolled < 300
        assert total.certificates == db_session.scalar(
            select(func.count(Certificate.id)).join(Locality, Locality.id == Certificate.locality_id)
            .where(queries.scope_condition(Locality, area)))


def test_synthetic_agencies_and_deadlines_add_up(db_session):
    from lms.agencies.models import Agency
    from lms.assignments.queries import overdue_clause
    from lms.core.dates import local_today

    generate(users=80, enrollments=400, progress_per_enrollment=5, seed=8, echo=lambda *_: None)
    refresh()
    area = home_area()
    in_area = (select(func.count(Enrollment.id)).join(Locality, Locality.id == Enrollment.locality_id)
               .where(queries.scope_condition(Locality, area)))
    total = queries.totals(queries.coverage(area, "current"))
    assert total.overdue == db_session.scalar(in_area.where(overdue_clause(local_today()))) > 0
    department = db_session.scalar(select(Agency).where(Agency.code == "SYN8-01"))
    subtree = select(Agency.id).where(Agency.path.startswith(department.path))
    filtered = queries.totals(queries.coverage(area, "recorded", queries.ReportFilter(agency_id=department.id)))
    assert filtered.enrolled == db_session.scalar(in_area.where(Enrollment.agency_id.in_(subtree))) > 0


def test_synthetic_refuses_a_database_with_real_accounts(app, db_session, create_user):
    from lms.reports.cli import synthetic_command

    create_user("Người dùng thật", email="that@tinh.gov.vn")
    before = db_session.scalar(select(func.count(User.id)))
    result = app.test_cli_runner().invoke(synthetic_command, ["--users", "3", "--enrollments", "3"])
    assert result.exit_code == 1 and "real account(s)" in result.output and "--force" in result.output
    assert db_session.scalar(select(func.count(User.id))) == before
