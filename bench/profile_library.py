"""Profile the three library pages in-process (cProfile), the pages bench/library_pages.py measures.

    .venv/bin/python bench/profile_library.py [--views 300] [--top 35] [--sort cumulative]
                                              [--page listing|collection|item|all] [--extra-items N]

Throw-away SQLite instance (or DATABASE_URL) with `make run`'s content (bench/library_pages.prepare),
the demo learner logged in; for each page prints the statements of one view, wall and CPU ms per view
(best of 5 batches, robust on a shared machine) and, with --top > 0, the top entries of the profile.
"""

import argparse
import cProfile
import os
import pstats
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.library_pages import prepare  # noqa: E402
from bench.profile_lesson import ROOT, logged_in_client, warm_and_show_statements  # noqa: E402


def page_paths(client) -> dict[str, str]:
    listing = client.get("/library").get_data(as_text=True)
    item = re.search(r'href="(/library/(?!new)[a-z0-9-]+)"', listing).group(1)
    collection = re.search(r'<option value="([a-z0-9-]+)"', listing[listing.find('name="collection"'):]).group(1)
    return {"listing": "/library", "collection": f"/library?collection={collection}", "item": item}


def cpu_per_view(client, path: str, views: int, batches: int = 5) -> tuple[float, float]:
    """(wall, CPU) milliseconds per view, the best of `batches` batches."""
    best_wall = best_cpu = float("inf")
    for _ in range(batches):
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(views):
            client.get(path)
        best_wall = min(best_wall, (time.perf_counter() - started) / views)
        best_cpu = min(best_cpu, (time.process_time() - cpu) / views)
    return 1000 * best_wall, 1000 * best_cpu


def profile_pages(instance: Path, args) -> None:
    os.environ.update(LMS_INSTANCE_PATH=str(instance), LMS_DEMO="1")
    os.chdir(ROOT)
    from app import app

    client, _lesson = logged_in_client(app)
    paths = page_paths(client)
    chosen = paths if args.page == "all" else {args.page: paths[args.page]}
    for name, path in chosen.items():
        warm_and_show_statements(app, client, path, f"\n== {name} {path}: {{count}} statements in one view")
        wall, cpu = cpu_per_view(client, path, max(1, args.views // 5))
        print(f"{name}: {wall:.2f} ms/view wall, {cpu:.2f} ms/view CPU (best of 5 × {max(1, args.views // 5)} views; "
              f"load average {os.getloadavg()[0]:.1f})")
        if args.top:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.views):
                client.get(path)
            profile.disable()
            stats = pstats.Stats(profile)
            print(f"{stats.total_calls / args.views:.0f} Python calls a view under cProfile")
            stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--views", type=int, default=300)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--page", choices=("listing", "collection", "item", "all"), default="all")
    parser.add_argument("--extra-items", type=int, default=0)
    args = parser.parse_args()
    instance = Path(tempfile.mkdtemp(prefix="lms-profile-library-"))
    try:
        prepare(instance, args.extra_items)
        profile_pages(instance, args)
    finally:
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
