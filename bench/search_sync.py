"""The cost of one search index message on PostgreSQL: `backend().sync` of 20 random rows of a loaded
bench database (unchanged, then 5 of them edited) and of 5,000 rows with no vector yet (as the bulk
load), each in a transaction rolled back; the server's CPU (its backend's /proc schedstat) and the
statements sent.

    .venv/bin/python bench/search.py --database postgresql://postgres@127.0.0.1:5432/lms_bench_search_b --pdf-pages 0  # load once
    .venv/bin/python bench/search_sync.py --database postgresql://postgres@127.0.0.1:5432/lms_bench_search_b

Run it from another checkout (`git archive main | tar -x -C /tmp/main`) against the same database to compare.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.search import server_cpu_ns  # noqa: E402


def timed(sync, batch, statements) -> tuple[float, float, int]:
    sent, cpu, started = len(statements), server_cpu_ns(), time.perf_counter()
    sync(batch)
    wall = (time.perf_counter() - started) * 1000
    return wall, (server_cpu_ns() - cpu) / 1e6, len(statements) - sent - 2  # minus the two pid queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", required=True, metavar="URL", help="a PostgreSQL database loaded by bench/search.py")
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()

    from sqlalchemy import event, text

    from lms import create_app
    from lms.extensions import db
    from lms.search.backends import backend

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database, "SECRET_KEY": "bench", "CELERY_EAGER": True,
                      "CELERY_BROKER_URL": "", "TESTING": True})
    with app.app_context():
        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *_args, **_kwargs: statements.append(1))
        ids = db.session.scalars(text("SELECT id FROM search_documents ORDER BY id")).all()
        rng = random.Random(3)
        for edited in (False, True):
            figures = []
            for _ in range(args.rounds):
                batch = sorted(rng.sample(ids, 20))
                if edited:
                    db.session.execute(text("UPDATE search_documents SET body = body || ' them mot cau moi' "
                                            "WHERE id = ANY(:ids)"), {"ids": batch[:5]})
                figures.append(timed(backend().sync, batch, statements))
                db.session.rollback()
            print(f"{'20 rows, 5 edited' if edited else '20 rows unchanged'}: wall p50 "
                  f"{statistics.median(f[0] for f in figures):.1f} ms, server CPU p50 "
                  f"{statistics.median(f[1] for f in figures):.1f} ms, {statistics.median(f[2] for f in figures):.0f} "
                  f"statements (load {os.getloadavg()[0]:.1f})")
        for offset in (10_000, 20_000):
            batch = ids[offset:offset + 5000]
            db.session.execute(text("UPDATE search_documents SET vector = NULL WHERE id = ANY(:ids)"), {"ids": batch})
            wall, cpu, _sent = timed(backend().sync, batch, statements)
            db.session.rollback()
            print(f"5,000 new rows: wall {wall / 1000:.2f} s, server CPU {cpu / 1000:.2f} s (load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
