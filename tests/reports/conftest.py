"""Hand-computed report fixtures: learners in several communes, old and new schemes, two courses.

    unit                               course   enrolled  completed  certificate
    A  Phường Vũng Tàu (26506, 2025-07)  1          a1, a2    a1         a1
                                        2          a3, a4    a3, a4     a3
    B  Phường Bà Rịa (26560, 2025-07)    1          b1, b2    b1         b1
    H  Phường Ba Đình (00004, Hà Nội)    1          h1        h1         h1
                                        2          h2        -          -
    O  Phường Thắng Tam (26508, 2025-01, merged into A on 1/7/2025)
                                        1          o1        o1         o1
"""

import shutil
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.certificates.operations import issue_for_enrollment
from lms.core.db import utcnow
from lms.enrollment import operations as enrollment_ops
from lms.reports.summary import refresh
from tests.conftest import FIXTURE_COURSES


@pytest.fixture()
def english(client):
    """Show pages in English so messages are stable whatever catalogues are compiled."""
    client.post("/language", data={"lang": "en"})


@pytest.fixture()
def units(commune):
    return SimpleNamespace(
        A=commune("26506"), B=commune("26560"), H=commune("00004"),
        O=commune("26508", scheme="2025-01"),
        hcmc=commune("79", level="province"), hanoi=commune("01", level="province"),
        vung_tau_district=commune("747", scheme="2025-01", level="district"),
    )


@pytest.fixture()
def courses(create_course, tmp_path):
    second = tmp_path / "khoa-hai"
    shutil.copytree(FIXTURE_COURSES / "mini-course", second)
    course_md = second / "course.md"
    course_md.write_text(course_md.read_text(encoding="utf-8")
                         .replace("code: TEST-101", "code: KH-2")
                         .replace("title: Khóa học thử nghiệm Dịch vụ công", "title: Khóa học thứ hai"), encoding="utf-8")
    return SimpleNamespace(first=create_course(), second=create_course(second))


@pytest.fixture()
def facts(db_session, units, courses):
    def learner(unit, course, *, completed=False, certified=False):
        # Learners who never log in: no (slow, scrypt) password hashing.
        count = db_session.scalar(select(func.count(User.id)))
        user = User(full_name=f"Học viên {count}", full_name_folded=f"hoc vien {count}",
                    email=f"learner{count}@example.vn", password_hash="!", audience="citizen", locality=unit)
        db_session.add(user)
        db_session.flush()
        enrollment = enrollment_ops.enrol(user, course)
        if completed:
            enrollment.completed_at = utcnow()
            db_session.flush()
        if certified:
            issue_for_enrollment(enrollment)
        return enrollment

    one, two = courses.first, courses.second
    learner(units.A, one, completed=True, certified=True)
    learner(units.A, one)
    learner(units.A, two, completed=True, certified=True)
    learner(units.A, two, completed=True)
    learner(units.B, one, completed=True, certified=True)
    learner(units.B, one)
    learner(units.H, one, completed=True, certified=True)
    learner(units.H, two)
    old = learner(units.O, one, completed=True, certified=True)
    assert old.locality_id == units.O.id
    refresh()
    db_session.commit()
    return courses
