"""CPU per autosave and per submit, in-process, with a cProfile summary (issue 17 item 2).

    .venv/bin/python bench/profile_exam.py [--repeat 300] [--profile autosave|submit]
    DATABASE_URL=postgresql://…/SCRATCH .venv/bin/python bench/profile_exam.py   # on PostgreSQL (wiped!)

The throw-away instance of bench/profile_lesson.py, its demo learner, the Flask test client (the
app's whole request path). CPU = this process's time.process_time per request (with SQLite the
database's CPU is in it too); the gunicorn/socket cost is not.
"""

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from capacity import QuizSession  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--profile", choices=("autosave", "submit", "full-autosave", "start", "page"))
    args = parser.parse_args()
    from profile_lesson import logged_in_client, prepare

    prepare()
    from app import app

    client, lesson = logged_in_client(app)
    quiz = QuizSession(client, lesson)

    def autosave():
        response = quiz.autosave()
        assert response.status_code == 200 and quiz.question in str(response.get_json()["saved"]), response.data
        return response

    attempts = []

    def submit():
        response = quiz.submit(attempts.pop())
        assert response.status_code == 200, response.data
        return response

    def full_autosave():  # the full view, as before the light path (lms/quizzes/autosave.py)
        from lms.quizzes import autosave as light

        light_path, light.save_json = light.save_json, lambda attempt_id: None
        try:
            return autosave()
        finally:
            light.save_json = light_path

    started = []

    def start():  # a new attempt each time: the running one is submitted first, outside the timing
        return started.append(quiz.new_attempt())

    def page():
        response = client.get(f"/attempts/{started[-1] if started else quiz.attempt}")
        assert response.status_code == 200 and b'name="shown"' in response.data, response.status_code
        return response

    kinds = (("autosave", autosave), ("full-autosave", full_autosave), ("submit", submit), ("start", start),
             ("page", page))
    for kind, call in kinds:
        n = max(20, args.repeat // 5) if kind in ("submit", "start") else args.repeat
        if kind == "submit":
            attempts.extend(quiz.new_attempt() for _ in range(n + 1))
        call()
        # On CPU time: with PostgreSQL the wall clock would count the waits for the server's answers.
        profiler = cProfile.Profile(time.process_time) if args.profile == kind else None
        cpu = []
        for _ in range(n):
            if kind == "start" and started:
                quiz.submit(started[-1])
            began = time.process_time()
            if profiler:
                profiler.enable()
            call()
            if profiler:
                profiler.disable()
            cpu.append(time.process_time() - began)
        print(f"{kind}: {n} requests, CPU median {1000 * statistics.median(cpu):.2f} ms, "
              f"mean {1000 * statistics.mean(cpu):.2f} ms")
        if profiler:
            pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(45)
            if os.environ.get("PROFILE_DUMP"):  # for pstats' callers/callees
                profiler.dump_stats(os.environ["PROFILE_DUMP"])


if __name__ == "__main__":
    main()
