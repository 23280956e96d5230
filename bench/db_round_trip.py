"""CPU of one PostgreSQL round trip, on each side (issue 17 item 2: why statements, not rows, are what an exam costs).

    .venv/bin/python bench/db_round_trip.py [--url postgresql://postgres@127.0.0.1:5432/test] [--repeat 20000]

The client's CPU is this process's; the server's is its backend's, read from /proc (same machine only).
"""

import argparse
import os
import time
from pathlib import Path

import psycopg


def _backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(label, repeat, backend, run) -> None:
    before = (_backend_cpu(backend), time.process_time(), time.perf_counter())
    for _ in range(repeat):
        run()
    after = (_backend_cpu(backend), time.process_time(), time.perf_counter())
    backend_us, client_us, wall_us = (1e6 * (b - a) / repeat for a, b in zip(before, after, strict=True))
    print(f"{label:38}: client CPU {client_us:5.0f} µs, backend CPU {backend_us:5.0f} µs, wall {wall_us:5.0f} µs")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--repeat", type=int, default=20000)
    args = parser.parse_args()
    with psycopg.connect(args.url, autocommit=True) as connection:
        backend = connection.execute("SELECT pg_backend_pid()").fetchone()[0]
        cursor = connection.cursor()
        _measure("one statement, autocommit", args.repeat, backend,
                 lambda: (cursor.execute("SELECT %s::int", (1,)), cursor.fetchall()))
        connection.autocommit = False

        def transaction():  # psycopg sends BEGIN on its own before the statement, then COMMIT: three round trips
            cursor.execute("SELECT %s::int", (1,))
            cursor.fetchall()
            connection.commit()

        _measure("BEGIN, one statement, COMMIT", args.repeat // 2, backend, transaction)


if __name__ == "__main__":
    main()
