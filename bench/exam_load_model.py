"""The requests per second of each kind that bench/quiz_exam.py's learners send, from their own load
model (bench/exam_learners.py: learner n starts at n × spread / N, opens the page, changes an answer
after uniform(0, think) seconds ten times — each change one autosave when the server keeps up —, then
submits after another uniform(0, think)), with the same distributions (not the same draws). No server needed:
the CPU budget in docs/performance.md multiplies these rates by the CPU each request costs.

    .venv/bin/python bench/exam_load_model.py [--learners 5000] [--spread 60] [--think 20]
"""

import argparse
import random
from collections import Counter

KINDS = ("start", "page", "autosave", "submit")
QUESTIONS = 10  # bench/quiz_exam.py's quiz


def rates(learners: int, spread: float, think: float) -> dict[str, Counter]:
    """Request kind → {second of the exam: requests sent in that second}."""
    per_second = {kind: Counter() for kind in KINDS}
    for n in range(learners):
        rng = random.Random(n)
        t = n * spread / learners
        per_second["start"][int(t)] += 1
        per_second["page"][int(t)] += 1
        for _ in range(QUESTIONS):
            t += rng.uniform(0, think)
            per_second["autosave"][int(t)] += 1
        t += rng.uniform(0, think)
        per_second["submit"][int(t)] += 1
    return per_second


def window(per_second: dict, first: int, last: int) -> dict[str, float]:
    return {kind: sum(counts[s] for s in range(first, last)) / (last - first) for kind, counts in per_second.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=5000)
    parser.add_argument("--spread", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=20.0)
    args = parser.parse_args()
    per_second = rates(args.learners, args.spread, args.think)
    end = max(max(counts) for counts in per_second.values()) + 1
    peak = max(range(end - 5), key=lambda s: sum(window(per_second, s, s + 5).values()))
    for first in sorted({0, 30, 50, 60, peak, 100, 120, 150}):
        rate = window(per_second, first, first + 5)
        print(f"{first:4d}–{first + 5:<4d} s  " + "  ".join(f"{k} {v:6.1f}/s" for k, v in rate.items())
              + f"  all {sum(rate.values()):6.1f}/s" + ("   ← busiest 5 s" if first == peak else ""))
    print(f"{sum(sum(c.values()) for c in per_second.values())} requests over {end} s")


if __name__ == "__main__":
    main()
