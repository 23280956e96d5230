"""A 30 MB agency CSV through the set-based import (issue 12, finding 4), on a throw-away database.

    .venv/bin/python bench/agency_import.py                       # SQLite file in /tmp
    createdb -h 127.0.0.1 -U postgres bench_secb
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_secb .venv/bin/python bench/agency_import.py
    dropdb -h 127.0.0.1 -U postgres bench_secb

Makes a tree of departments → offices → teams (children listed before their parents, so the
parent-after-child ordering is exercised), imports it, then imports it again (every row an update,
nothing created). Prints the file size, rows and seconds of each run.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def make_csv(target_bytes: int) -> tuple[bytes, int]:
    lines, size, number = ["code,name,parent_code,kind,locality_code"], 0, 0
    while size < target_bytes:
        number += 1
        parent = f"BD{number // 50:06d}" if number >= 50 and number % 50 else ""
        line = f"BD{number:06d},Phòng Văn hoá - Xã hội và Truyền thông đơn vị số {number:06d},{parent},office,"
        lines.append(line)
        size += len(line.encode()) + 1
    lines[1:] = reversed(lines[1:])  # children before their parents
    return ("\n".join(lines) + "\n").encode(), number


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=float, default=30)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp(prefix='bench-agencies-')}/bench.sqlite3"
    from lms import create_app
    from lms.agencies.operations import import_agencies_csv
    from lms.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret-key-not-for-production",
                      "CELERY_EAGER": True, "CELERY_BROKER_URL": ""})
    data, rows = make_csv(int(args.megabytes * 1024 * 1024))
    with app.app_context():
        db.drop_all()
        db.create_all()
        print(f"{db.engine.dialect.name}: {len(data) / 1024 / 1024:.1f} MB, {rows} rows")
        for run in ("first import", "same file again"):
            started, cpu = time.perf_counter(), time.process_time()
            counts = import_agencies_csv(data)
            db.session.commit()
            # CPU seconds of this process beside the wall clock: on a shared machine the wall clock
            # measures the neighbours too (the database server's own CPU is not in the CPU figure).
            print(f"{run}: {time.perf_counter() - started:.1f} s wall, {time.process_time() - cpu:.1f} s CPU — "
                  f"{counts['created']} created, "
                  f"{counts['updated']} updated, {len(counts['errors'])} errors")
        db.drop_all()


if __name__ == "__main__":
    main()
