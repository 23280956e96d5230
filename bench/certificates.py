"""Certificate costs in the worker and on the public verification path, in-process.

    .venv/bin/python bench/certificates.py [--count 50]

Uses a throw-away SQLite instance: imports the fixture course, issues `count` certificates
through the task (issue + PDF + signed credential, as the worker does), then times the public
JSON lookup and the offline credential check. Prints per-item milliseconds (median and p95).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def summary(name, samples):
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    print(f"{name:42} n={len(samples):4}  median {statistics.median(samples):7.2f} ms  p95 {p95:7.2f} ms")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=50)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="lms-bench-cert-")
    os.environ["LMS_INSTANCE_PATH"] = tmp
    from lms import create_app
    from lms.extensions import db

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/b.sqlite3", "CELERY_EAGER": True,
                      "LMS_FILE_STORE": f"{tmp}/files", "LMS_VERIFY_RATE_LIMIT": 10**9, "SERVER_NAME": "bench"})
    with app.app_context():
        db.create_all()
        from lms.accounts.operations import create_user
        from lms.catalog.operations import import_course
        from lms.catalog.queries import course_by_slug
        from lms.catalog.source import read_course
        from lms.certificates.cli import check_credential
        from lms.certificates.models import Certificate
        from lms.certificates.tasks import issue_certificate
        from lms.core.db import utcnow
        from lms.enrollment.operations import enrol

        import_course(read_course(ROOT / "tests" / "fixtures" / "courses" / "mini-course"))
        course = course_by_slug("mini-course")
        enrollments = []
        for n in range(args.count):
            enrollment = enrol(create_user(f"Nguyễn Thị Hường {n}", "mat-khau-123", email=f"b{n}@example.vn"), course)
            enrollment.completed_at = utcnow()
            enrollments.append(enrollment)
        db.session.commit()
        issue, sizes = [], []
        for enrollment in enrollments:
            start = time.perf_counter()
            issue_certificate.run(enrollment.id)
            issue.append((time.perf_counter() - start) * 1000)
        certificates = db.session.scalars(db.select(Certificate)).all()
        sizes = [os.path.getsize(Path(tmp) / "files" / c.pdf_key) for c in certificates]
        summary("issue + PDF + signed credential (task)", issue)
        print(f"{'PDF size':42} median {statistics.median(sizes) / 1024:.1f} KB")
        client = app.test_client()
        lookups = []
        for certificate in certificates * 4:
            start = time.perf_counter()
            response = client.get(f"/verify/{certificate.serial}.json")
            lookups.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        summary("GET /verify/<serial>.json (test client)", lookups)
        import json

        checks = []
        for certificate in certificates:
            document = json.loads(certificate.credential_json)
            start = time.perf_counter()
            assert check_credential(document)[0]
            checks.append((time.perf_counter() - start) * 1000)
        summary("offline credential check (signature + status)", checks)


if __name__ == "__main__":
    main()
