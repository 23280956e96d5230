"""Private PostgreSQL, Redis and app processes for fault tests and benchmarks.

    with PrivatePostgres() as pg, PrivateRedis() as redis:
        url = pg.create_database("lms")
        with AppProcesses(url, redis.url()) as app:
            app.prepare()                      # migrations, localities, courses, programs, demo accounts
            app.start_web(); app.start_worker(); app.start_beat()
            pg.stop("immediate"); ...; pg.start()      # a database crash, then recovery on the same port
            app.kill("worker"); app.start_worker()      # kill -9 of the whole worker (pool included)

Each service is a fresh instance on a free port of 127.0.0.1 in a temporary directory, in a process
group of its own, stopped by its pid (tests/processes.py); leaving the `with` block always ends every
process and removes the directory, also when the test failed. The shared PostgreSQL (5432) and Redis
(6379) are never started, stopped or written to.
"""

import atexit
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import psycopg
import redis
from psycopg import sql

from tests.processes import SHARED_PORTS, Service, children_of, free_port, wait_until

PG_BIN = Path(os.environ.get("LMS_PG_BIN", "/usr/lib/postgresql/15/bin"))
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
# PostgreSQL's shutdown modes, as pg_ctl sends them: smart waits for clients, fast disconnects them,
# immediate quits at once without a checkpoint (recovery on the next start, like after a crash).
PG_STOP_SIGNALS = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}


def missing_tools() -> list[str]:
    """What this machine lacks to run private services (empty when everything is there)."""
    missing = [str(p) for p in (PG_BIN / "initdb", PG_BIN / "postgres", Path(REDIS_SERVER)) if not p.exists()]
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            missing.append("user postgres (PostgreSQL does not run as root)")
    return missing


class _Private:
    """A temporary directory that is removed, with every process in it, however the block ends."""

    prefix = "lms-private-"

    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix=self.prefix))
        self.services: list[Service] = []
        atexit.register(self.cleanup)  # a safety net when a caller forgets the `with`

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def start(self):
        raise NotImplementedError

    def cleanup(self) -> None:
        atexit.unregister(self.cleanup)
        for service in self.services:
            service.kill()
        shutil.rmtree(self.directory, ignore_errors=True)

    def pids_seen(self) -> set[int]:
        return set().union(*(s.pids_seen for s in self.services)) if self.services else set()


class PrivatePostgres(_Private):
    """A fresh PostgreSQL 15 cluster: trust auth, TCP on 127.0.0.1 only, no Unix socket, fsync off.

    fsync off only matters if the machine itself crashes; a crash of PostgreSQL (`stop("immediate")`,
    `kill()`) keeps every committed transaction, since `synchronous_commit` stays on (the WAL of a
    commit reaches the kernel before the client hears "committed").
    """

    prefix = "lms-pg-"

    def __init__(self, port: int | None = None, max_connections: int = 200,
                 template: "PrivatePostgres | None" = None):
        """`template`: start from a copy of that cluster's data (its databases, already migrated and
        loaded) instead of an empty one; it is stopped cleanly for the copy and restarted if it ran."""
        super().__init__()
        self.port = port or free_port()
        if self.port in SHARED_PORTS:
            raise ValueError(f"port {self.port} belongs to a shared service")
        self.data = self.directory / "data"
        self.user = "postgres" if os.geteuid() == 0 else None  # the server refuses to run as root
        try:
            if self.user:
                entry = pwd.getpwnam(self.user)
                os.chown(self.directory, entry.pw_uid, entry.pw_gid)
            if template is not None:
                self._copy(template)
            else:
                self._initdb()
            self._configure(max_connections)
        except BaseException:
            self.cleanup()
            raise
        self.server = Service("postgres", [PG_BIN / "postgres", "-D", self.data], self.directory / "postgres.log",
                              user=self.user)
        self.services.append(self.server)

    def _initdb(self) -> None:
        command = [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                   "--locale=C.UTF-8", "--no-sync", "--no-instructions"]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"initdb failed:\n{done.stdout}\n{done.stderr}")

    def _copy(self, template: "PrivatePostgres") -> None:
        was_running = template.server.running
        if was_running:
            template.stop("fast")
        try:
            subprocess.run(["cp", "-a", str(template.data), str(self.data)], check=True)  # -a: owner and modes
        finally:
            if was_running:
                template.start()
        (self.data / "postmaster.pid").unlink(missing_ok=True)

    def _configure(self, max_connections: int) -> None:
        # Appended, so that on a copied cluster these lines win over the template's.
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"\n# private cluster of the fault harness\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                       f"unix_socket_directories = ''\nmax_connections = {max_connections}\nfsync = off\n"
                       "full_page_writes = off\nsynchronous_commit = on\nshared_buffers = 64MB\n")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def start(self, timeout: float = 30.0) -> "PrivatePostgres":
        """Start (again) on the same data and port; returns when it accepts connections."""
        self.server.start()
        wait_until(self._ready, timeout, interval=0.05, what="private PostgreSQL to accept connections")
        return self

    def _ready(self) -> bool:
        if not self.server.running:
            raise RuntimeError(f"private PostgreSQL ended (exit {self.server.process.returncode}):\n"
                               f"{self.server.tail()}")
        try:
            with psycopg.connect(self.url(), connect_timeout=2) as connection:
                connection.execute("SELECT 1")
            return True
        except psycopg.OperationalError:
            return False

    def stop(self, mode: str = "fast", timeout: float = 30.0) -> None:
        """smart / fast / immediate (a crash: no checkpoint, recovery on the next start)."""
        self.server.stop(PG_STOP_SIGNALS[mode], timeout=timeout)

    def kill(self) -> None:
        """SIGKILL to the postmaster and every backend at once (the host lost the process)."""
        self.server.kill()

    @property
    def pid(self) -> int | None:
        return self.server.pid if self.server.running else None

    def execute(self, statement, params=None, dbname: str = "postgres") -> list[tuple]:
        """Run one statement in autocommit; the rows it returns (empty for commands)."""
        with psycopg.connect(self.url(dbname), autocommit=True, connect_timeout=5) as connection:
            cursor = connection.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (optionally a copy of `template`, which must have no connections); its URL."""
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        self.execute(statement)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


class PrivateRedis(_Private):
    """redis-server on a free port of 127.0.0.1. Without `appendonly` it keeps nothing across a restart
    (`--save ""`); with it, every write is in the append-only file before Redis answers (fsync always),
    so even `kill()` loses nothing the broker acknowledged."""

    prefix = "lms-redis-"

    def __init__(self, port: int | None = None, appendonly: bool = False):
        super().__init__()
        self.port = port or free_port()
        if self.port in SHARED_PORTS:
            raise ValueError(f"port {self.port} belongs to a shared service")
        argv = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--dir", self.directory,
                "--daemonize", "no", "--unixsocket", "", "--appendonly", "yes" if appendonly else "no"]
        if appendonly:
            argv += ["--appendfsync", "always"]
        self.server = Service("redis", argv, self.directory / "redis.log")
        self.services.append(self.server)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis.from_url(self.url(db), socket_connect_timeout=2, socket_timeout=5)

    def start(self, timeout: float = 15.0) -> "PrivateRedis":
        self.server.start()
        wait_until(self._ready, timeout, what="private Redis to answer")
        return self

    def _ready(self) -> bool:
        if not self.server.running:
            raise RuntimeError(f"private Redis ended (exit {self.server.process.returncode}):\n{self.server.tail()}")
        try:
            with self.client() as client:
                return bool(client.ping())
        except redis.exceptions.RedisError:
            return False

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM: a clean shutdown (with appendonly, the file is complete)."""
        self.server.stop(signal.SIGTERM, timeout=timeout)

    def kill(self) -> None:
        self.server.kill()

    @property
    def pid(self) -> int | None:
        return self.server.pid if self.server.running else None


from tests.app_processes import AppProcesses  # noqa: E402 - re-exported: the harness is one import

__all__ = ["AppProcesses", "PrivatePostgres", "PrivateRedis", "children_of", "free_port", "missing_tools"]

if __name__ == "__main__":  # `python -m tests.services`: exit 0 when private services can run here
    import sys

    if missing := missing_tools():
        print(f"private services cannot run here: missing {', '.join(missing)}", file=sys.stderr)
    sys.exit(1 if missing else 0)
