"""Timing of `courses check / import / export` and of the editor's preview renderer.

Usage: .venv/bin/python bench/courses_roundtrip.py [--copies N]
Runs on a throw-away SQLite database; the starter courses are copied N times under new slugs.
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lms import create_app  # noqa: E402
from lms.extensions import db  # noqa: E402


def timed(label, function, repeat=1):
    start = time.perf_counter()
    for _ in range(repeat):
        result = function()
    elapsed = (time.perf_counter() - start) / repeat
    print(f"{label:48} {elapsed * 1000:9.1f} ms")
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-courses-"))
    source = work / "courses"
    for folder in sorted((ROOT / "courses").iterdir()):
        if (folder / "course.md").is_file():
            for n in range(args.copies):
                target = source / f"{folder.name}-{n}"
                shutil.copytree(folder, target)
                text = (target / "course.md").read_text(encoding="utf-8")
                (target / "course.md").write_text(text.replace("\ncode: ", f"\ncode: B{n}-", 1), encoding="utf-8")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work}/bench.db", "SECRET_KEY": "bench",
                      "LMS_FILE_STORE": str(work / "files")})
    lessons = sum(1 for _ in source.rglob("[0-9]*.md"))
    print(f"{len(list(source.iterdir()))} courses, {lessons} lesson files")
    with app.app_context():
        db.create_all()
        runner = app.test_cli_runner()
        timed("courses check", lambda: runner.invoke(args=["courses", "check", str(source)]))
        timed("courses import (first time)", lambda: runner.invoke(args=["courses", "import", str(source)]))
        timed("courses import (unchanged)", lambda: runner.invoke(args=["courses", "import", str(source)]))
        slug = sorted(p.name for p in source.iterdir())[0]
        timed("courses export (one course)", lambda: runner.invoke(args=["courses", "export", slug, str(work / "out")]))
        from lms.core.markdown import render

        body = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted((source / slug).rglob("0*.md")))
        print(f"preview text: {len(body)} characters")
        timed("preview render of all lessons of one course", lambda: render(body), repeat=20)
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
