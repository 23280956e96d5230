"""A private nginx (Debian's) in front of app hosts, serving through deploy/nginx/lms-proxy.conf —
the file production includes — on a free port of 127.0.0.1."""

import os
import shutil
import urllib.error
import urllib.request

from tests.processes import Service, free_port, wait_until
from tests.services import _Private

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PROXY_CONF = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "deploy", "nginx",
                          "lms-proxy.conf")

_CONF = """
{user}
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format upstreams '$request_method $uri $status up=$upstream_addr ups=$upstream_status';
    access_log {dir}/access.log upstreams;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream lms_app {{
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        include {proxy_conf};
    }}
}}
"""


class PrivateNginx(_Private):
    prefix = "lms-nginx-"

    def __init__(self, upstream_ports: list[int], port: int | None = None):
        super().__init__()
        self.port = port or free_port()
        servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in upstream_ports)
        user = "user root root;" if os.geteuid() == 0 else ""
        conf = self.directory / "nginx.conf"
        conf.write_text(_CONF.format(user=user, dir=self.directory, servers=servers, port=self.port,
                                     proxy_conf=PROXY_CONF))
        self.server = Service("nginx", [NGINX, "-p", self.directory, "-c", conf, "-g", "daemon off;"],
                              self.directory / "nginx.log")
        self.services.append(self.server)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> "PrivateNginx":
        self.server.start()
        wait_until(self._ready, timeout, what="private nginx to answer")
        return self

    def _ready(self) -> bool:
        if not self.server.running:
            raise RuntimeError(f"nginx ended (exit {self.server.process.returncode}):\n{self.server.tail()}"
                               f"\n{(self.directory / 'error.log').read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(self.base_url + "/healthz", timeout=5) as answer:
                return answer.status in (200, 503)
        except urllib.error.HTTPError as error:
            return error.code in (200, 502, 503)
        except OSError:
            return False

    def access_log(self) -> str:
        path = self.directory / "access.log"
        return path.read_text(errors="replace") if path.exists() else ""


class PrivatePgBouncer(_Private):
    """PgBouncer (Debian's) in transaction mode in front of a private PostgreSQL, as deploy/ runs it.
    PgBouncer will not run as root: under root it runs as the `postgres` user."""

    prefix = "lms-pgbouncer-"

    def __init__(self, postgres_port: int, database: str, port: int | None = None):
        super().__init__()
        self.port, self.database = port or free_port(), database
        (self.directory / "userlist.txt").write_text('"postgres" ""\n')
        conf = self.directory / "pgbouncer.ini"
        conf.write_text(PGBOUNCER_INI.format(database=database, pg_port=postgres_port, port=self.port,
                                             dir=self.directory))
        user = None
        if os.geteuid() == 0:
            user = "postgres"
            shutil.chown(self.directory, user)
            for path in self.directory.iterdir():
                shutil.chown(path, user)
        self.server = Service("pgbouncer", [PGBOUNCER, conf], self.directory / "pgbouncer.log", user=user)
        self.services.append(self.server)

    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def start(self, timeout: float = 15.0) -> "PrivatePgBouncer":
        import psycopg

        self.server.start()

        def ready():
            if not self.server.running:
                raise RuntimeError(f"pgbouncer ended:\n{self.server.tail()}")
            try:
                with psycopg.connect(self.url(), connect_timeout=2, prepare_threshold=None) as connection:
                    return connection.execute("SELECT 1").fetchone() == (1,)
            except psycopg.Error:
                return False

        wait_until(ready, timeout, what="private PgBouncer to answer")
        return self


PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
# The production file is deploy/pgbouncer/pgbouncer.ini; this is it with private paths and ports.
PGBOUNCER_INI = """[databases]
{database} = host=127.0.0.1 port={pg_port} dbname={database}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {dir}/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
"""
