"""Library pages against the lesson page's budgets (DESIGN.md §7): the listing (/library), a filtered
listing (a collection) and an item page, each against a bare Flask app serving the same bytes, both
under gunicorn (2 sync workers) on this machine, in the same run; and each page's weight in bytes.

    .venv/bin/python bench/library_pages.py [--seconds 10] [--connections 16] [--extra-items 2000]
    .venv/bin/python bench/library_pages.py --scratch-db postgresql://postgres@127.0.0.1:5432/lms_bench_NAME

Needs `wrk`. A throw-away SQLite instance (or DATABASE_URL when set) with `make run`'s content:
localities, courses/, library/ (the starter items) and the demo accounts; `--extra-items N` adds N
published items (synthetic, in one collection) so the listing is measured over a library that has
grown. Pages are requested as the logged-in demo learner (the heavier case: the header shows the
person). Budget, as for the lesson page: at least 40 % of the bare app's requests/s, p95 < 50 ms
at 16 connections (wrk reports p90 and p99; p99 under 50 ms is shown as met, p90 over it as not).
Beside req/s each line gives the server's CPU milliseconds per request (gunicorn master + workers,
from /proc): the figure that still means something on a shared machine.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lesson_page import BARE_APP, BIN, ROOT, free_port, gunicorn, login_cookie, on_database, run_wrk, timed_wrk  # noqa: E402

EXTRA_ITEMS = '''
from lms import create_app
from lms.extensions import db
from lms.library import operations
from lms.library.models import LibraryItem

app = create_app()
with app.app_context():
    for number in range({count}):
        item = LibraryItem(slug=f"tai-lieu-them-{{number}}", kind="article", title="")
        operations.apply_fields(item, {{"title": f"Tài liệu tham khảo số {{number}}", "licence": "CC BY 4.0",
                                        "status": "published", "summary": "Hướng dẫn sử dụng dịch vụ công trực tuyến.",
                                        "body_md": "Nội dung hướng dẫn."}})
        operations.set_collections(item, ["Tài liệu tham khảo"])
        db.session.add(item)
        if number % 500 == 0:
            db.session.commit()
    db.session.commit()
'''


def prepare(instance: Path, extra_items: int) -> dict:
    env = dict(os.environ, LMS_INSTANCE_PATH=str(instance), LMS_DEMO="1")
    flask = [str(BIN / "flask"), "--app", "app"]
    for step in (["db", "upgrade"], ["localities", "load"], ["library", "import", "library/"],
                 ["courses", "import", "courses/"], ["demo", "create"]):
        subprocess.run(flask + step, cwd=ROOT, env=env, check=True, capture_output=True)
    if extra_items:
        subprocess.run([sys.executable, "-c", EXTRA_ITEMS.format(count=extra_items)], cwd=ROOT, env=env, check=True)
    return env


def pages(base: str, cookie: str) -> dict:
    def get(path):
        return urllib.request.urlopen(urllib.request.Request(base + path, headers={"Cookie": cookie})).read()

    listing = get("/library").decode()
    item = re.search(r'href="(/library/(?!new)[a-z0-9-]+)"', listing).group(1)
    collection = re.search(r'<option value="([a-z0-9-]+)"', listing[listing.find('name="collection"'):])
    found = {"listing": "/library", "item": item}
    if collection:
        found["collection"] = f"/library?collection={collection.group(1)}"
    return {name: (path, get(path)) for name, path in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--extra-items", type=int, default=0)
    parser.add_argument("--scratch-db", metavar="URL",
                        help="PostgreSQL: create this database, serve from it, drop it afterwards (else SQLite)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    on_database(args.scratch_db, measure, args)


def measure(args) -> None:
    instance = Path(tempfile.mkdtemp(prefix="lms-bench-library-"))
    processes = []
    try:
        env = prepare(instance, args.extra_items)
        lms_port, bare_port = free_port(), free_port()
        processes.append(gunicorn("app:app", lms_port, env, ROOT))
        base = f"http://127.0.0.1:{lms_port}"
        cookie, _lesson = login_cookie(base)
        print(f"{args.connections} connections, {args.seconds}s each, gunicorn 2 sync workers, "
              f"database {os.environ.get('DATABASE_URL', 'SQLite')}, {args.extra_items} extra items, "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        (instance / "bare_app.py").write_text(BARE_APP)
        failed = False
        for name, (path, body) in pages(base, cookie).items():
            body_file = instance / f"{name}.html"
            body_file.write_bytes(body)
            bare = gunicorn("bare_app:app", bare_port, dict(env, BENCH_BODY=str(body_file)), instance)
            try:
                run_wrk(base + path, 2, args.connections, cookie)  # warm-up
                page = timed_wrk(processes[0], base + path, args.seconds, args.connections, cookie)
                plain = timed_wrk(bare, f"http://127.0.0.1:{bare_port}/page", args.seconds, args.connections)
            finally:
                bare.send_signal(signal.SIGTERM)
                bare.wait(timeout=10)
            ratio = 100 * page["rps"] / plain["rps"]
            failed |= ratio < 40 or page["errors"] > 0
            print(f"{name:10} {path} ({len(body):,} bytes): {page['rps']:.0f} req/s, p50 {page['p50']}, "
                  f"p90 {page['p90']}, p99 {page['p99']}, non-2xx {page['errors']}, server CPU {page['cpu_ms']:.2f} "
                  f"ms/request; bare Flask {plain['rps']:.0f} req/s ({plain['cpu_ms']:.2f} ms) → {ratio:.0f} % "
                  f"(budget ≥ 40 %); load average {os.getloadavg()[0]:.1f}")
        print(f"load average after the run: {os.getloadavg()[0]:.1f}")
        sys.exit(1 if failed else 0)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
