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
    """Busy share of all the machine's CPUs, sampled each second from /proc/stat, until stopped; and the share the
    hypervisor gave to other machines ("steal": counted busy, though nothing here ran — a run with much of it
    measured its neighbours, not the exam)."""

    def __init__(self):
        self.samples: list[tuple[float, float, float]] = []  # (monotonic time, busy share 0..1, stolen share 0..1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @staticmethod
    def _read() -> tuple[int, int, int]:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields), fields[3] + fields[4], fields[7]  # all, idle + iowait, steal

    def _sample(self) -> None:
        total, idle, steal = self._read()
        while not self._stop.wait(1.0):
            now_total, now_idle, now_steal = self._read()
            elapsed = max(1, now_total - total)
            self.samples.append((time.monotonic(), 1 - (now_idle - idle) / elapsed, (now_steal - steal) / elapsed))
            total, idle, steal = now_total, now_idle, now_steal

    def stolen(self) -> float:
        """The share of the run's CPU time the hypervisor gave to others."""
        return sum(s for _, _, s in self.samples) / len(self.samples) if self.samples else 0.0


def print_timeline(stats, cpu: MachineCpu) -> None:
    """One line per 5 s of the exam: busy CPU, then each kind's requests sent in it and their p95 (ms)."""
    buckets: dict[int, dict[str, list[float]]] = {}
    for kind, rows in stats.timed.items():
        for sent, ms in rows:
            buckets.setdefault(int((sent - stats.began) // BUCKET), {}).setdefault(kind, []).append(ms)
    print("timeline (requests by the time they were sent; CPU: the whole machine, busy share, of it stolen by the "
          "hypervisor):")
    for index in sorted(buckets):
        start = stats.began + index * BUCKET
        busy = [share for at, share, _ in cpu.samples if start <= at < start + BUCKET]
        stolen = [share for at, _, share in cpu.samples if start <= at < start + BUCKET]
        parts = []
        for kind, values in sorted(buckets[index].items()):
            parts.append(f"{kind} {len(values):5d} p95 {pct(values, 95):6.0f}")
        cpu_text = f"{100 * sum(busy) / len(busy):5.1f} % ({100 * sum(stolen) / len(stolen):4.1f})" if busy else "    ?        "
        print(f"  {index * BUCKET:5.0f} s  CPU {cpu_text}  " + "   ".join(parts))
