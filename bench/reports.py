"""Reports budget (DESIGN.md §7): province dashboard and drill-downs p95 < 300 ms warm on
PostgreSQL at 100k users / 1M enrolments / 5M lesson-progress rows; a 1M-row export with
flat memory.

    .venv/bin/python bench/reports.py --database postgresql://postgres@127.0.0.1:5432/bench_i7 \
        [--generate --users 100000 --enrollments 1000000 --progress 5] [--runs 40] [--export]

--generate creates the schema (create_all) and the synthetic province first (a fresh database).
Then it rebuilds the summary (timed), requests each report page through the app (test client,
logged in as an administrator, whole HTML page rendered) `--runs` times after a warm-up, and
prints p50/p95. --export writes the learner list of the home area to CSV and XLSX through
the export job's code path, sampling the process RSS every 50,000 rows.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--generate", action="store_true")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--enrollments", type=int, default=1_000_000)
    parser.add_argument("--progress", type=int, default=5)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--export", action="store_true")
    args = parser.parse_args()

    os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production-use-0123456789")
    from lms import create_app
    from lms.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database, "TESTING": True, "WTF_CSRF_ENABLED": False,
                      "CELERY_EAGER": True, "CELERY_BROKER_URL": "", "SERVER_NAME": "bench.test"})
    with app.app_context():
        db.create_all()  # only creates what is missing
        if args.generate:
            from lms.localities.operations import load_localities
            from lms.reports.synthetic import generate

            load_localities()
            db.session.commit()
            started = time.monotonic()
            counts = generate(users=args.users, enrollments=args.enrollments, progress_per_enrollment=args.progress,
                              echo=lambda message: print(message, flush=True))
            print(f"generated {counts} in {time.monotonic() - started:.0f} s", flush=True)
            db.session.execute(db.text("ANALYZE"))
            db.session.commit()
        from lms.reports.summary import refresh

        started = time.monotonic()
        rows = refresh()
        db.session.commit()
        print(f"summary refresh: {rows} rows in {time.monotonic() - started:.2f} s")
        pages = _pages(app, db)
        _measure(app, db, pages, args.runs)
        if args.export:
            _export(db)


def _pages(app, db):
    from sqlalchemy import select

    from lms.accounts.models import RoleGrant, User
    from lms.agencies.models import Agency
    from lms.localities.models import Locality
    from lms.localities.queries import find_unit, home_area

    area = home_area()
    district = db.session.scalar(select(Locality).where(Locality.parent_id == area.id).order_by(Locality.code).limit(1))
    old_commune = db.session.scalar(select(Locality).where(Locality.parent_id == district.id).order_by(Locality.code).limit(1))
    ward = find_unit("2025-07/26506")
    city = find_unit("2025-07/79")
    admin = db.session.scalar(select(User).where(User.email == "bench-admin@synthetic.invalid"))
    if admin is None:
        admin = User(full_name="Quản trị đo", full_name_folded="quan tri do", email="bench-admin@synthetic.invalid",
                     password_hash="!", audience="official")
        admin.set_password("bench-password-2025")
        db.session.add(admin)
        db.session.flush()
        db.session.add(RoleGrant(user_id=admin.id, role="admin"))
        db.session.commit()
    department = db.session.scalar(select(Agency).where(Agency.code.like("SYN%-01")).order_by(Agency.id).limit(1))
    pages = [
        ("home province (old 77), current", f"/reports/localities/{area.id}"),
        ("home province (old 77), recorded", f"/reports/localities/{area.id}?mode=recorded"),
        ("Ho Chi Minh City (79), current", f"/reports/localities/{city.id}"),
        ("old district, recorded", f"/reports/localities/{district.id}?mode=recorded"),
        ("old commune, recorded", f"/reports/localities/{old_commune.id}?mode=recorded"),
        ("ward 26506, current, course filter", f"/reports/localities/{ward.id}?course=1"),
        ("province, citizens, 2025-07..2025-12", f"/reports/localities/{area.id}?audience=citizen&from=2025-07&to=2025-12"),
        ("province, program (old text value)", f"/reports/localities/{area.id}?program=officials"),
    ]
    if department is not None:
        pages += [("province, agency subtree (department + 3 offices)", f"/reports/localities/{area.id}?agency={department.id}"),
                  ("province, agency subtree, recorded, 2025-07..2025-12",
                   f"/reports/localities/{area.id}?agency={department.id}&mode=recorded&from=2025-07&to=2025-12")]
    return pages


def _measure(app, db, pages, runs):
    client = app.test_client()
    response = client.post("/login", data={"login": "bench-admin@synthetic.invalid", "password": "bench-password-2025"})
    assert response.status_code == 302, response.status_code
    print(f"{'page':45} {'p50 ms':>8} {'p95 ms':>8} {'rows':>5}")
    for label, url in pages:
        for _ in range(3):
            client.get(url)
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        timings.sort()
        p95 = timings[max(0, int(round(0.95 * len(timings))) - 1)]
        rows = response.get_data(as_text=True).count('<th scope="row">')
        print(f"{label:45} {statistics.median(timings):8.1f} {p95:8.1f} {rows:5d}", flush=True)


def _export(db):
    import tempfile

    from lms.localities.queries import home_area
    from lms.reports import exports
    from lms.reports.queries import ReportFilter

    area = home_area()
    for fmt in ("csv", "xlsx"):
        samples, count = [rss_mb()], [0]

        def sampled(rows, samples=samples, count=count):
            for number, row in enumerate(rows, start=1):
                if number % 50_000 == 0:
                    samples.append(rss_mb())
                count[0] = number
                yield row

        started = time.monotonic()
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, f"learners.{fmt}")
            rows = sampled(exports.learner_rows(area, ReportFilter()))
            if fmt == "csv":
                with open(path, "w", encoding="utf-8", newline="") as handle:
                    for chunk in exports.csv_chunks(exports.learner_header(), rows):
                        handle.write(chunk)
            else:
                exports.write_xlsx(path, exports.learner_header(), rows)
            size = os.path.getsize(path) / 2**20
        db.session.rollback()
        samples.append(rss_mb())
        print(f"export {fmt}: {count[0]} rows, {size:.0f} MB file in {time.monotonic() - started:.0f} s; "
              f"RSS start {samples[0]:.0f} MB, max {max(samples):.0f} MB, end {samples[-1]:.0f} MB "
              f"(samples: {', '.join(f'{s:.0f}' for s in samples[::max(1, len(samples) // 8)])})", flush=True)


if __name__ == "__main__":
    main()
