"""Profile the logged-in lesson view in-process (cProfile), the same page bench/lesson_page.py measures.

    .venv/bin/python bench/profile_lesson.py [--views 300] [--top 35] [--sort cumulative]

Throw-away SQLite instance (or DATABASE_URL), courses/ imported, the demo learner logged in and
enrolled; prints the top entries of the profile and the queries one view makes.
"""

import argparse
import cProfile
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def prepare() -> Path:
    instance = Path(tempfile.mkdtemp(prefix="lms-profile-"))
    env = dict(os.environ, LMS_INSTANCE_PATH=str(instance), LMS_DEMO="1")
    flask = [str(BIN / "flask"), "--app", "app"]
    for step in (["db", "upgrade"], ["localities", "load"], ["courses", "import", "courses/"], ["demo", "create"]):
        subprocess.run(flask + step, cwd=ROOT, env=env, check=True, capture_output=True)
    os.environ.update(LMS_INSTANCE_PATH=str(instance), LMS_DEMO="1")
    return instance


def logged_in_client(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"csrf_token": token, "login": "hocvien@demo.vn", "password": "hocvien-demo-2025"})
    catalogue = client.get("/courses").get_data(as_text=True)
    slug = re.search(r'href="/courses/([a-z0-9-]+)"', catalogue).group(1)
    client.post(f"/courses/{slug}/enrol", data={"csrf_token": token})
    course = client.get(f"/courses/{slug}").get_data(as_text=True)
    lesson = re.search(rf'href="(/courses/{slug}/lessons/\d+)"', course).group(1)
    return client, lesson


def warm_and_show_statements(app, client, path: str, title: str) -> None:
    """Twenty views to warm every cache, then the SQL one view sends, printed under `title`."""
    for _ in range(20):
        assert client.get(path).status_code == 200
    statements = statements_of(app, client, path)
    print(title.format(count=len(statements)))
    for statement in statements:
        print("  ", " ".join(statement.split())[:160])


def statements_of(app, client, path: str) -> list[str]:
    """The SQL statements one view of `path` sends."""
    from sqlalchemy import event

    from lms.extensions import db

    statements = []
    with app.app_context():
        engine = db.engine
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    client.get(path)
    event.remove(engine, "before_cursor_execute", listener)
    return statements


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--views", type=int, default=300)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--sort", default="cumulative")
    args = parser.parse_args()
    prepare()
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    from app import app

    client, lesson = logged_in_client(app)
    warm_and_show_statements(app, client, lesson, f"{{count}} statements in one view of {lesson}:")
    started = time.perf_counter()
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.views):
        client.get(lesson)
    profile.disable()
    elapsed = time.perf_counter() - started
    print(f"{args.views} views in {elapsed:.2f}s under cProfile = {1000 * elapsed / args.views:.2f} ms/view")
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(args.views):
        client.get(lesson)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"{args.views} views in {elapsed:.2f}s without profiler = {1000 * elapsed / args.views:.2f} ms/view wall, "
          f"{1000 * cpu / args.views:.2f} ms/view CPU (load average {os.getloadavg()[0]:.1f})")
    pstats.Stats(profile).strip_dirs().sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
