"""panva's oidc-provider (npm, installed by `make oidc-provider` into tests/identity/oidc/node_modules),
started on 127.0.0.1 for a test module and stopped by its process group."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.servers import free_port

HERE = Path(__file__).parent / "oidc"
CLIENT_ID, CLIENT_SECRET = "lms-test", "lms-test-secret-0123456789-abcdefghij"


def missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not (HERE / "node_modules" / "oidc-provider").exists():
        return "oidc-provider is not installed (make oidc-provider)"
    return None


@dataclass
class OidcProvider:
    process: subprocess.Popen
    issuer: str
    port: int

    def settings(self, issuer: str | None = None, label: str = "VNeID") -> dict:
        return {"issuer": issuer or self.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                "label": label, "scope": "openid email phone profile"}

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)


def start(redirect_uris: list[str], accounts: dict, *, issuer_host: str = "127.0.0.1", clock_skew: int = 0,
          post_logout_redirect_uris: list[str] = (), port: int | None = None) -> OidcProvider:
    port = port or free_port()
    issuer = f"http://{issuer_host}:{port}"
    config = {"issuer": issuer, "port": port, "accounts": accounts, "clockSkewSeconds": clock_skew,
              "clients": [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": redirect_uris,
                           "post_logout_redirect_uris": list(post_logout_redirect_uris),
                           "grant_types": ["authorization_code"], "response_types": ["code"],
                           "token_endpoint_auth_method": "client_secret_basic"}]}
    with tempfile.NamedTemporaryFile(prefix="oidc-provider-", suffix=".log", delete=False) as log:
        process = subprocess.Popen(["node", str(HERE / "provider.mjs")], cwd=HERE, stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, "OIDC_TEST_CONFIG": json.dumps(config)}, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        if "listening" in Path(log.name).read_text(errors="replace"):
            return OidcProvider(process, issuer, port)
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("oidc-provider did not start:\n" + Path(log.name).read_text(errors="replace"))
