"""What bench/quiz_exam.py prints after an exam: latency per request kind, errors, the learners' outcomes and the
database's findings; and its exit status (the 30 ms budget for autosave and submit, nothing lost or stuck)."""

from bench.exam_check import report


def pct(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def latency_line(name, values, width=9) -> str:
    return (f"  {name:{width}}: {len(values):6d}  p50 {pct(values, 50):7.1f} ms  p95 {pct(values, 95):7.1f} ms  "
            f"p99 {pct(values, 99):7.1f} ms  max {max(values or [0]):8.1f} ms")


def print_results(args, cluster, stats, timeline, findings, elapsed) -> int:
    where = f"private PostgreSQL cluster on port {cluster.port}" if cluster else "PostgreSQL"
    background = "a Celery worker on a private Redis" if args.broker else "the embedded runner"
    workers = ("sync workers" + (f", 503 past {args.queue_limit_ms} ms since X-Request-Start" if args.request_start else "")
               if args.threads == 1 else f"gthread workers × {args.threads} threads" + (
        ", unbounded queue" if args.unbounded_queue else f", 503 past {args.queue_limit_ms} ms queued"))
    print(f"{args.learners} learners starting over {args.spread:.0f}s, think ≤ {args.think}s, revise {args.revise}, "
          f"gunicorn {args.workers} {workers}, {background}, {where}; wall time {elapsed:.1f}s")
    for at, what in timeline:
        print(f"  at {at:6.1f} s: {what}")
    if stats.restored:
        after = [t for t in stats.ack_times if t >= stats.restored]
        print(f"  first confirmed autosave {min(after) - stats.restored:.1f} s after that" if after
              else "  no autosave was confirmed after that")
    print("requests (each HTTP request that got a response):")
    for kind, values in stats.times.items():
        print(latency_line(kind, values))
    if stats.fault:
        print("requests sent before / during / after the fault:")
        for kind in ("autosave", "submit"):
            for phase, values in stats.phases(kind).items():
                if values:
                    print(latency_line(f"{kind}, {phase}", values, width=26))
    print("until confirmed (autosave: from the answer's change; submit: from the first press; retries included):")
    for kind, values in stats.confirmed.items():
        print(latency_line(kind, values))
    print(f"errors: {sum(stats.errors.values())}" + (" (by request and kind)" if stats.errors else ""))
    for (kind, what), count in stats.errors.most_common():
        print(f"  {kind:9} {what:45} {count:6d}   e.g. {stats.samples[(kind, what)][:110]}")
    outcomes = {}
    for record in stats.records:
        outcomes[record.outcome] = outcomes.get(record.outcome, 0) + 1
    print("learners: " + ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items())))
    for line in report(findings):
        print(line)
    broken = findings.missing or findings.stuck or sum(findings.unfinished.values())
    if args.outage or args.kill_app:
        return 1 if broken else 0
    p95_ok = all(pct(stats.times[k], 95) < 30 for k in ("autosave", "submit"))
    return 1 if broken or stats.errors or not p95_ok else 0
