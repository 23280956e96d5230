"""`bench/quiz_exam.py --timeline`: the exam's p95 per request kind and the machine's busy CPU, every 5 seconds.

The whole-run p95 says whether the budget was met; this says when it was not — the minute the starts and the
answers overlap and the two cores are full, or a pause that comes back every few seconds.
"""

import threading
import time
from pathlib import Path

from bench.exam_report import pct

BUCKET = 5.0


class MachineCpu:
    """Busy share of all the machine's CPUs, sampled each second from /proc/stat, until stopped."""

    def __init__(self):
        self.samples: list[tuple[float, float]] = []  # (monotonic time, busy share 0..1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @staticmethod
    def _read() -> tuple[int, int]:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]  # all, idle + iowait

    def _sample(self) -> None:
        total, idle = self._read()
        while not self._stop.wait(1.0):
            now_total, now_idle = self._read()
            busy = 1 - (now_idle - idle) / max(1, now_total - total)
            self.samples.append((time.monotonic(), busy))
            total, idle = now_total, now_idle


def print_timeline(stats, cpu: MachineCpu) -> None:
    """One line per 5 s of the exam: busy CPU, then each kind's requests sent in it and their p95 (ms)."""
    buckets: dict[int, dict[str, list[float]]] = {}
    for kind, rows in stats.timed.items():
        for sent, ms in rows:
            buckets.setdefault(int((sent - stats.began) // BUCKET), {}).setdefault(kind, []).append(ms)
    print("timeline (requests by the time they were sent; CPU: the whole machine, busy share):")
    for index in sorted(buckets):
        start = stats.began + index * BUCKET
        busy = [share for at, share in cpu.samples if start <= at < start + BUCKET]
        parts = []
        for kind, values in sorted(buckets[index].items()):
            parts.append(f"{kind} {len(values):5d} p95 {pct(values, 95):6.0f}")
        cpu_text = f"{100 * sum(busy) / len(busy):5.1f} %" if busy else "    ? "
        print(f"  {index * BUCKET:5.0f} s  CPU {cpu_text}  " + "   ".join(parts))
