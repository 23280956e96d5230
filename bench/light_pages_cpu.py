"""In-process CPU per view of the light pages (the lesson page, the library listing): the least of a few
rounds, so that a shared machine's busy moments count less. Run it in two trees one after the other to
compare them.

    .venv/bin/python bench/light_pages_cpu.py [--rounds 7] [--views 300]

Set-up as bench/profile_lesson.py: a throw-away SQLite instance (or DATABASE_URL), courses/ imported,
the demo learner logged in and enrolled.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--views", type=int, default=300)
    args = parser.parse_args()
    from bench import profile_lesson

    profile_lesson.prepare()
    os.chdir(ROOT)
    from app import app

    client, lesson = profile_lesson.logged_in_client(app)
    figures = []
    for name, path in (("lesson", lesson), ("library listing", "/library")):
        for _ in range(30):  # warm every cache
            assert client.get(path).status_code == 200
        best = min(_cpu_per_view(client, path, args.views) for _ in range(args.rounds))
        figures.append(f"{name} {best:.3f} ms")
    print(f"{ROOT}: {', '.join(figures)} CPU/view (least of {args.rounds} × {args.views}); "
          f"load average {os.getloadavg()[0]:.1f}")


def _cpu_per_view(client, path: str, views: int) -> float:
    started = time.process_time()
    for _ in range(views):
        client.get(path)
    return (time.process_time() - started) / views * 1000


if __name__ == "__main__":
    main()
