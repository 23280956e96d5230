"""Processes the fault harness starts, and the only ways it ends them: by their own pid or process group.

Every service runs in a session of its own (`start_new_session`); "the whole PostgreSQL" or "the whole
Celery worker" is its leader with every descendant and process-group member, each remembered with its
start time so that a reused pid is never signalled. Nothing here looks processes up by name, so the
shared services and other developers' processes are never hit.
"""

import os
import signal
import socket
import subprocess
import threading
import time
from contextlib import suppress
from pathlib import Path

# The shared services of the team's machines: never a port the harness may use.
SHARED_PORTS = frozenset({5432, 6379})


def free_port() -> int:
    """A port nothing listens on now (the kernel's pick), never one of the shared services'."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in SHARED_PORTS:
            return port


def _stat(pid: int) -> tuple[str, int, int, int] | None:
    """(state, parent pid, process group, start time) from /proc, or None when the pid is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # the command name may hold spaces and parentheses
    return fields[0], int(fields[1]), int(fields[2]), int(fields[19])


def _live_stats() -> dict[int, tuple[str, int, int, int]]:
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None and stat[0] not in ("Z", "X"):
            stats[int(entry)] = stat
    return stats


def alive(pid: int) -> bool:
    """True while the pid runs (a zombie waiting to be reaped counts as gone)."""
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def children_of(pid: int) -> list[int]:
    """Live direct children of a process (e.g. gunicorn's workers under its master)."""
    return sorted(child for child, stat in _live_stats().items() if stat[1] == pid)


def tree_of(pid: int) -> dict[int, int]:
    """A process, its descendants and the rest of its process group: {pid: start time}.

    Both relations count: PostgreSQL's backends leave the postmaster's group (setsid) but stay its
    children; a Celery pool child whose parent died stays in the group.
    """
    stats = _live_stats()
    found = {p: s[3] for p, s in stats.items() if p == pid or s[2] == pid}
    grew = True
    while grew:
        grew = False
        for child, stat in stats.items():
            if child not in found and stat[1] in found:
                found[child] = stat[3]
                grew = True
    return found


def same_process(pid: int, start_time: int) -> bool:
    """The pid still runs the process seen before (not a new one that reused the number)."""
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X") and stat[3] == start_time


def wait_until(condition, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll `condition` until it returns something truthy; that value, or TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


class Service:
    """One long-running process the harness started, in its own process group, logging to a file."""

    def __init__(self, name: str, argv: list[str], log_path: Path, *, env=None, cwd=None, user=None,
                 restart_after: float | None = None):
        self.name, self.argv, self.log_path = name, [str(a) for a in argv], Path(log_path)
        self.env, self.cwd, self.user = env, cwd, user
        self.process: subprocess.Popen | None = None
        self.seen: dict[int, int] = {}  # every pid of its tree we ever saw → start time, for "nothing left" checks
        # Supervised like its systemd unit (Restart=always, RestartSec=restart_after): an exit the harness
        # did not ask for is followed by a new start. None: not supervised.
        self.restart_after, self.restarts = restart_after, 0
        self._ended_by_harness = False
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> "Service":
        if self.running:
            raise RuntimeError(f"{self.name} is already running (pid {self.pid})")
        with self._lock:
            self._ended_by_harness = False
            self._spawn("start")
        if self.restart_after is not None:
            threading.Thread(target=self._supervise, args=(self.process,), name=f"supervise-{self.name}",
                             daemon=True).start()
        return self

    def _spawn(self, why: str) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"\n==== {why} {' '.join(self.argv)}\n".encode())
            log.flush()
            extra = {"user": self.user, "group": self.user, "extra_groups": []} if self.user else {}
            self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            env=self.env, cwd=self.cwd, start_new_session=True, **extra)
        self.members()

    def _supervise(self, process: subprocess.Popen) -> None:
        """Start the service again `restart_after` seconds after an exit the harness did not cause."""
        while True:
            process.wait()
            restart_at = time.monotonic() + self.restart_after
            while time.monotonic() < restart_at and not self._ended_by_harness:
                time.sleep(0.05)  # RestartSec: the harness may stop the service meanwhile
            with self._lock:
                if self._ended_by_harness or self.process is not process:
                    return
                self.restarts += 1
                self._spawn(f"restart #{self.restarts} (exit {process.returncode}; as Restart=always)")
                process = self.process

    @property
    def pids_seen(self) -> set[int]:
        return set(self.seen)

    def members(self) -> list[int]:
        """Live processes of the service: the leader, its descendants and its process group."""
        if self.process is None:
            return []
        tree = tree_of(self.process.pid)
        if not self.running:  # reaped: its number may be someone else's now; its group id may not
            tree.pop(self.process.pid, None)
        self.seen.update(tree)
        return sorted(tree)

    def _left(self) -> dict[int, int]:
        """Processes of this service seen at some point and still running."""
        return {pid: start for pid, start in self.seen.items() if same_process(pid, start)}

    def send(self, signum: int) -> None:
        if self.running:
            self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        """Ask the leader to stop with `signum`; kill the whole group if it has not ended within `timeout`."""
        if self.process is None:
            return
        with self._lock:  # no restart can begin once the harness ends the service
            self._ended_by_harness = True
        self.members()
        self.send(signum)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)
        self.kill()

    def kill(self) -> None:
        """SIGKILL to every process of the service at once (a crash of all of it), then reap the leader.

        The leader is frozen first, so that it forks nothing between the listing and the killing.
        """
        if self.process is None:
            return
        with self._lock:  # no restart can begin once the harness ends the service
            self._ended_by_harness = True
        if self.running:
            self.process.send_signal(signal.SIGSTOP)
        self.members()
        for pid, start in self._left().items():
            try:
                if same_process(pid, start):
                    os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # ended on its own meanwhile
                pass
        self.process.wait(timeout=30)
        # Children re-parented to init are reaped by it; wait until none is left.
        wait_until(lambda: not self._left(), 15, what=f"{self.name}'s processes to end")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def wait_for_log(self, needle: str, timeout: float, since: int = 0) -> int:
        """Wait until the log holds `needle` after byte `since`; returns its offset. Fails early if it died
        (and, supervised, no restart is coming)."""
        def seen():
            found = self.log_text().find(needle, since)
            restart_coming = self.restart_after is not None and not self._ended_by_harness
            if found < 0 and not self.running and not restart_coming:
                raise RuntimeError(f"{self.name} ended (exit {self.process.returncode}) before logging "
                                   f"{needle!r}:\n{self.tail()}")
            return found + 1 if found >= 0 else None
        return wait_until(seen, timeout, what=f"{self.name} to log {needle!r}") - 1

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0
