"""A synthetic province for demos and benchmarks: `flask --app app synthetic`.

Learners with Vietnamese names (NFC, with diacritics) live in the current communes of the
home area (80 %) and elsewhere in the country (20 %); a quarter of the enrolments made before
1/7/2025 are recorded at the old 2025-01 commune, as the foundation does. Enrolments carry
progress, quiz attempts and certificates. Civil servants belong to synthetic agencies (departments
with offices, and people's committees), recorded on their enrolments; a third of their enrolments
are assigned with a deadline (some past). Rows go in by PostgreSQL COPY (executemany on
SQLite), in chunks, so memory stays flat; ids are assigned here and sequences moved after.
"""

import random
from datetime import datetime, timedelta

from psycopg.types.json import Json
from sqlalchemy import JSON, and_, func, or_, select, text

from lms.accounts.models import User
from lms.agencies.models import Agency
from lms.catalog.models import Course, Lesson, Module
from lms.certificates.models import Certificate
from lms.core.db import utcnow
from lms.core.signals import agency_requested, answer
from lms.core.text import fold
from lms.enrollment.models import Enrollment, LessonProgress
from lms.extensions import db
from lms.localities.models import CURRENT_SCHEME, Locality
from lms.localities.queries import home_area
from lms.quizzes.models import Attempt, Quiz

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quốc", "Xuân", "Thu", "Hoài", "Gia"]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương", "Khánh", "Lan",
         "Linh", "Long", "Mai", "Minh", "Nam", "Nga", "Ngân", "Nhung", "Phúc", "Phương", "Quân", "Quang", "Sơn",
         "Tâm", "Thảo", "Thắng", "Thủy", "Trang", "Trí", "Trung", "Tuấn", "Uyên", "Việt", "Yến"]
TOPICS = ["Dịch vụ công trực tuyến", "An toàn thông tin", "Chữ ký số", "Thanh toán không dùng tiền mặt", "Chính quyền số"]
COURSES = 20
LESSONS = 8
CHUNK = 20_000
START = datetime(2025, 1, 2)
REFORM = datetime(2025, 7, 1)


def _name(rng) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def _with_defaults(table, columns, rows):
    """Add the NOT NULL columns the generator does not set, with their model defaults: COPY and
    Core inserts bypass ORM defaults, and new columns must not break the generator."""
    extra = [column for column in table.columns
             if column.name not in columns and not column.nullable and not column.primary_key
             and column.default is not None and column.server_default is None]
    if not extra:
        return columns, rows
    values = []
    for column in extra:
        value = column.default.arg(None) if column.default.is_callable else column.default.arg
        if isinstance(column.type, JSON) and db.session.get_bind().dialect.name == "postgresql":
            value = Json(value)
        values.append(value)
    return [*columns, *(column.name for column in extra)], [(*row, *values) for row in rows]


class _Writer:
    def __init__(self):
        self.postgres = db.session.get_bind().dialect.name == "postgresql"

    def write(self, model, columns, rows):
        if not rows:
            return
        table = model.__table__
        columns, rows = _with_defaults(table, columns, rows)
        if self.postgres:
            raw = db.session.connection().connection.driver_connection
            with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            db.session.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])

    def fix_sequences(self, *models):
        if self.postgres:
            for model in models:
                name = model.__tablename__
                # Table names come from the models, never from input.
                sql = f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {name}))"  # nosec B608
                db.session.execute(text(sql))


def _courses(rng):
    """The synthetic catalogue: COURSES courses of LESSONS lessons and one quiz each (made once)."""
    courses = db.session.scalars(select(Course).where(Course.code.like("SYN-%")).order_by(Course.id)).all()
    if courses:
        return courses
    programs = ["e-citizen", "officials", "cio"]
    for number in range(1, COURSES + 1):
        title = f"Kỹ năng số {number:02d}: {rng.choice(TOPICS)}"
        course = Course(slug=f"syn-{number:02d}", code=f"SYN-{number:02d}", title=title, title_folded=fold(title),
                        program=programs[number % 3], audience=["citizen", "official"], hours=rng.choice([1, 2, 4]),
                        status="published")
        db.session.add(course)
        db.session.flush()
        module = Module(course_id=course.id, key="m1", title="Phần 1", position=1)
        db.session.add(module)
        db.session.flush()
        for position in range(1, LESSONS + 1):
            db.session.add(Lesson(course_id=course.id, module_id=module.id, key=f"m1/l{position}", title=f"Bài {position}",
                                  position=position, module_position=1))
        db.session.add(Quiz(course_id=course.id, module_id=module.id, key="m1/quiz", title="Bài kiểm tra"))
    db.session.flush()
    return db.session.scalars(select(Course).where(Course.code.like("SYN-%")).order_by(Course.id)).all()


def _places(rng):
    """(current commune id, old commune id or None) pairs: home area weighted 4:1 against elsewhere."""
    area = home_area()
    old = {}
    for old_id, current_id in db.session.execute(
            select(Locality.id, Locality.current_id).where(Locality.scheme != CURRENT_SCHEME, Locality.level == "commune",
                                                           Locality.current_id.is_not(None))):
        old.setdefault(current_id, []).append(old_id)
    home_ids = set(db.session.scalars(select(Locality.current_id).where(Locality.path.startswith(area.path),
                                                                         Locality.level == "commune")))
    everywhere = db.session.scalars(select(Locality.id).where(Locality.scheme == CURRENT_SCHEME,
                                                              Locality.level == "commune")).all()
    home = sorted(i for i in home_ids if i)
    elsewhere = rng.sample(everywhere, min(400, len(everywhere)))
    return home, elsewhere, old


def _agencies(seed) -> list[int]:
    """Five departments with three offices each and ten committees (created once per seed; agencies
    makes them, on request)."""
    ids = []
    for number in range(1, 16):
        code = f"SYN{seed}-{number:02d}"
        agency = db.session.scalar(select(Agency).where(Agency.code == code))
        if agency is None:
            kind = "department" if number <= 5 else "committee"
            name = f"{'Sở' if kind == 'department' else 'UBND'} thử nghiệm {number}"
            agency = answer(agency_requested, None, code=code, name=name, kind=kind)
        ids.append(agency.id)
        for office in range(1, 4) if number <= 5 else ():
            office_code = f"{code}-{office}"
            child = db.session.scalar(select(Agency).where(Agency.code == office_code))
            if child is None:
                child = answer(agency_requested, None, code=office_code, name=f"Phòng {office} – {agency.name}",
                               kind="office", parent=agency)
            ids.append(child.id)
    return ids


SYNTHETIC_EMAIL, DEMO_EMAIL = "%@synthetic.invalid", "%@demo.vn"


def real_accounts() -> int:
    """Accounts that neither this generator nor `flask demo create` made (a phone-only account is real)."""
    return db.session.scalar(select(func.count(User.id)).where(or_(User.email.is_(None), and_(
        User.email.not_like(SYNTHETIC_EMAIL), User.email.not_like(DEMO_EMAIL)))))


def generate(users=2000, enrollments=10000, progress_per_enrollment=5, seed=2025, echo=print) -> dict:
    rng = random.Random(seed)
    writer = _Writer()
    courses = _courses(rng)
    lessons = {c.id: db.session.scalars(select(Lesson.id).where(Lesson.course_id == c.id).order_by(Lesson.position)).all()
               for c in courses}
    quizzes = dict(db.session.execute(select(Quiz.course_id, Quiz.id).where(Quiz.course_id.in_([c.id for c in courses]))).all())
    home, elsewhere, old = _places(rng)
    agencies = _agencies(seed)
    db.session.commit()
    now = utcnow()
    span = (now - START).total_seconds()

    user_id = first_user = _next_id(User)
    people = []  # (id, current commune, name, agency) — 100k small tuples, fine in memory
    for start in range(0, users, CHUNK):
        rows = []
        for _ in range(min(CHUNK, users - start)):
            name = _name(rng)
            place = rng.choice(home) if rng.random() < 0.8 else rng.choice(elsewhere)
            audience = "citizen" if rng.random() < 0.75 else rng.choice(["official", "official", "cio"])
            agency = rng.choice(agencies) if audience != "citizen" else None
            rows.append((user_id, name, fold(name), f"syn{seed}-{user_id}@synthetic.invalid", "!", audience, place,
                         agency, True, 1, START))
            people.append((user_id, place, name, agency))
            user_id += 1
        writer.write(User, ["id", "full_name", "full_name_folded", "email", "password_hash", "audience", "locality_id",
                            "agency_id", "is_active", "session_version", "created_at"], rows)
        db.session.commit()
    echo(f"users: {users}")

    per_user = max(1, min(len(courses), round(enrollments / max(users, 1))))
    counts = {"users": users, "enrollments": 0, "lesson progress": 0, "attempts": 0, "certificates": 0}
    ids = {model: _next_id(model) for model in (Enrollment, LessonProgress, Attempt, Certificate)}
    batch = {model: [] for model in ids}
    course_by_id = {c.id: c for c in courses}

    def flush():
        writer.write(Enrollment, ["id", "user_id", "course_id", "source", "locality_id", "agency_id", "enrolled_at",
                                  "completed_at", "last_seen_at", "deadline"], batch[Enrollment])
        writer.write(LessonProgress, ["id", "enrollment_id", "lesson_id", "first_seen_at", "completed_at"],
                     batch[LessonProgress])
        writer.write(Attempt, ["id", "quiz_id", "user_id", "enrollment_id", "number", "started_at", "submitted_at", "score",
                               "passed"], batch[Attempt])
        writer.write(Certificate, ["id", "serial", "user_id", "course_id", "enrollment_id", "locality_id", "holder_name",
                                   "course_title", "hours", "issuing_authority", "issued_at", "generation"], batch[Certificate])
        db.session.commit()
        for model, rows in batch.items():
            counts[{Enrollment: "enrollments", LessonProgress: "lesson progress", Attempt: "attempts",
                    Certificate: "certificates"}[model]] += len(rows)
            rows.clear()

    made = 0
    for uid, place, name, agency in people:
        if made >= enrollments:
            break
        for course in rng.sample(courses, min(per_user, enrollments - made)):
            eid = ids[Enrollment]
            ids[Enrollment] += 1
            made += 1
            enrolled = START + timedelta(seconds=rng.random() * span * 0.95)
            recorded = place
            if enrolled < REFORM and place in old and rng.random() < 0.25:
                recorded = rng.choice(old[place])
            course_lessons = lessons[course.id]
            seen = min(len(course_lessons), max(0, round(rng.gauss(progress_per_enrollment, 2))))
            completed = enrolled + timedelta(days=rng.randint(1, 60)) if seen == len(course_lessons) else None
            if completed and completed > now:
                completed = None
            last_seen = min(now, enrolled + timedelta(days=rng.randint(0, 300))) if seen else None
            assigned = agency is not None and rng.random() < 0.33
            deadline = (enrolled + timedelta(days=90)).date() if assigned else None
            batch[Enrollment].append((eid, uid, course.id, "assigned" if assigned else "self", recorded, agency, enrolled,
                                      completed, last_seen, deadline))
            for position in range(seen):
                batch[LessonProgress].append((ids[LessonProgress], eid, course_lessons[position],
                                              enrolled + timedelta(hours=position), enrolled + timedelta(hours=position)))
                ids[LessonProgress] += 1
            if seen >= len(course_lessons) - 1:
                score = rng.choice([40, 50, 60, 70, 80, 90, 100])
                batch[Attempt].append((ids[Attempt], quizzes[course.id], uid, eid, 1, enrolled, enrolled, score, score >= 70))
                ids[Attempt] += 1
            if completed:
                cid = ids[Certificate]
                batch[Certificate].append((cid, f"SYN{seed % 1000:03d}{cid:012d}", uid, course.id, eid, recorded, name,
                                           course_by_id[course.id].title, course_by_id[course.id].hours,
                                           "Trung tâm Chuyển đổi số (dữ liệu thử)", completed, 1))
                ids[Certificate] += 1
            if len(batch[Enrollment]) >= CHUNK:
                flush()
                echo(f"enrollments: {counts['enrollments']}")
    flush()
    writer.fix_sequences(User, Enrollment, LessonProgress, Attempt, Certificate)
    db.session.commit()
    counts["first user id"] = first_user
    return counts
