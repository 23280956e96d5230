"""Commands of the background machinery: `flask serve`, `flask jobs run`, `flask outbox …`."""

import json
import logging
import os
import threading
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from lms.core import outbox
from lms.core.models import OutboxMessage
from lms.extensions import db

jobs_cli = AppGroup("jobs", help="The embedded background runner (the default without a broker).")
backup_cli = AppGroup("backup", help="Back up and restore the database, the file store and the keys.")
outbox_cli = AppGroup("outbox", help="Background work that must not be lost.")
files_cli = AppGroup("files", help="The file store (a directory or an S3-compatible bucket).")


@click.command("serve")
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1 or $HOST")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "5000")), type=int, show_default="5000 or $PORT")
@click.option("--workers", default=2, show_default=True)
@click.option("--threads", default=4, show_default=True)
@with_appcontext
def serve_command(host, port, workers, threads):
    """Serve the site with gunicorn; without a broker also run the background runner beside it."""
    from lms.core.serve import serve

    with_runner = outbox.mode() == "runner"
    click.echo(f"Serving on http://{host}:{port}" + ("  (with the embedded background runner)" if with_runner else ""))
    # The checkout (gunicorn.conf.py lives there): the folder above the application package.
    root = os.path.dirname(current_app.root_path)
    raise SystemExit(serve(host, port, workers, threads, with_runner, cwd=root))


@jobs_cli.command("run")
@click.option("--threads", default=2, show_default=True)
@with_appcontext
def run_jobs_command(threads):
    """Run queued background work and the schedule until stopped (Ctrl+C)."""
    import signal

    from lms.core.runner import Runner

    logging.basicConfig(level=logging.INFO, format="%(asctime)s runner %(levelname)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    Runner(current_app._get_current_object(), threads=threads).run_forever(stop)


@outbox_cli.command("relay")
@click.option("--older-than", default=0, help="Only queued messages older than this many seconds.")
def relay_command(older_than):
    """Send now every message that is not done in time (never sent, lost, or its worker died)."""
    click.echo(f"dispatched {outbox.relay(older_than)}")


@outbox_cli.command("status")
def status_command():
    """Counts by state and the oldest open message, as JSON (the same figures as /healthz)."""
    click.echo(json.dumps(outbox.stats()))


@outbox_cli.command("retry")
@click.argument("message_ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="Every failed message.")
def retry_command(message_ids, all_failed):
    """Give failed messages a fresh set of runs."""
    query = select(OutboxMessage).where(OutboxMessage.state == outbox.FAILED)
    if not all_failed:
        query = query.where(OutboxMessage.id.in_(message_ids))
    messages = db.session.scalars(query).all()
    for message in messages:
        outbox.retry(message)
    db.session.commit()
    outbox.dispatch_ready()
    click.echo(f"queued again: {len(messages)}")


@backup_cli.command("create")
@click.argument("destination", type=click.Path(file_okay=False, path_type=Path))
def backup_create_command(destination):
    """Write a backup into DESTINATION (a new folder): database, files, keys, manifest.json."""
    from lms.core.backup import BackupError, create

    try:
        manifest = create(destination)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backup written to {destination}: {json.dumps(manifest)}")


@backup_cli.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing SQLite file and keys.")
def backup_restore_command(source, force):
    """Restore a backup made by `backup create` into this configuration (stop the server first)."""
    from lms.core.backup import BackupError, restore

    try:
        manifest = restore(source, force=force)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"restored the backup of {manifest['created_at']} (schema {manifest['revision']}); "
               "run `flask db upgrade` if this version is newer, then start the server")


@click.command("metrics-exporter")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on: this host's private-network address for a Prometheus elsewhere.")
@click.option("--port", default=9102, show_default=True)
def metrics_exporter_command(host, port):
    """Serve this host's task figures for Prometheus on a worker-only host (no gunicorn to ask).

    The figures have no token (unlike /metrics): they listen on loopback unless told an address, never
    on every interface by default.

    Reads PROMETHEUS_MULTIPROC_DIR, where the Celery worker's processes write; the database figures
    (outbox, certificates) come from any web host's /metrics.
    """
    import time

    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        raise click.UsageError("PROMETHEUS_MULTIPROC_DIR is not set: the worker writes no figures to read")
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    start_http_server(port, addr=host, registry=registry)
    click.echo(f"metrics of this host on http://{host}:{port}/metrics")
    while True:
        time.sleep(3600)


@files_cli.command("migrate")
@click.option("--from", "source", default=None, help="Directory or s3://bucket/prefix (default: LMS_FILE_STORE).")
@click.option("--to", "target", required=True, help="Directory or s3://bucket/prefix to copy every file into.")
@with_appcontext
def files_migrate_command(source, target):
    """Copy every file of one store into another (local → S3 or back), streaming, memory flat.

    Then set LMS_FILE_STORE to the target on every host, and run it once more from the old store
    to catch files written in between (copying again is harmless: same keys, same bytes).
    """
    from lms.core.files import copy_store, get_store, store_for

    origin = store_for(source) if source else get_store()
    destination = store_for(target)
    copied = copy_store(origin, destination)
    click.echo(f"{copied} files copied from {origin} to {destination}")


def register(app) -> None:
    for command in (serve_command, jobs_cli, outbox_cli, backup_cli, files_cli, metrics_exporter_command):
        app.cli.add_command(command)
