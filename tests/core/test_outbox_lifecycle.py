"""The outbox lifecycle in-process: claims and leases, retries with backoff, giving up, reconciling.

The same functions run in Celery workers and in the embedded runner; real processes, killed
workers and stopped services are in tests/core/test_runner.py and tests/faults/.
"""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from lms.core import outbox
from lms.core.db import utcnow
from lms.core.models import OutboxMessage
from lms.imports.models import ImportJob


def _message(db_session, task="core.reconcile_outbox", **kwargs) -> OutboxMessage:
    message = outbox.enqueue(task, **kwargs)
    db_session.info.pop("lms_outbox_pending", None)  # not sent after the commit: the test drives it
    db_session.commit()
    return message


def _state(db_session, message_id):
    db_session.expire_all()
    return db_session.get(OutboxMessage, message_id)


def test_a_claimed_message_is_not_run_twice_until_its_lease_ends(app, db_session):
    message = _message(db_session)
    assert outbox.claim(message.id) is True
    row = _state(db_session, message.id)
    assert row.state == "running" and row.runs == 1 and row.due_at > utcnow() + timedelta(seconds=100)
    # A second copy (broker redelivery, the relay) finds the live lease.
    assert outbox.claim(message.id) is False
    # The worker died: its lease ran out, so the next copy takes over.
    db_session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id)
                       .values(due_at=utcnow() - timedelta(seconds=1)))
    db_session.commit()
    assert outbox.claim(message.id) is True and _state(db_session, message.id).runs == 2


def test_done_is_written_when_the_task_returns_and_a_late_copy_does_nothing(app, db_session):
    message = _message(db_session)
    assert outbox.claim(message.id)
    outbox.finish(message.id)
    row = _state(db_session, message.id)
    assert row.state == "done" and row.finished_at is not None
    assert outbox.claim(message.id) is False


def test_a_failed_run_is_tried_again_later_with_backoff_then_given_up(app, db_session, monkeypatch):
    message = _message(db_session)
    for run in range(1, outbox.MAX_RUNS):
        assert outbox.claim(message.id)
        assert outbox.record_failure(message.id, RuntimeError(f"boom {run}")) == "queued"
        row = _state(db_session, message.id)
        assert row.last_error == f"RuntimeError: boom {run}" and row.runs == run
        wait = (row.due_at - utcnow()).total_seconds()
        assert outbox.backoff(run).total_seconds() - 2 <= wait <= outbox.backoff(run).total_seconds()
        db_session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id).values(due_at=utcnow()))
        db_session.commit()
    assert outbox.claim(message.id)
    assert outbox.record_failure(message.id, RuntimeError("last")) == "failed"
    row = _state(db_session, message.id)
    assert row.state == "failed" and row.finished_at is not None and row.runs == outbox.MAX_RUNS
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 6, 7)] == [10, 20, 40, 300, 300]


def test_giving_up_on_an_import_marks_the_job_failed_with_a_retry(app, db_session, client, create_user, login):
    admin = create_user("Quản Trị", roles=("admin",), audience="official")
    job = ImportJob(filename="people.csv", file_key="imports/x/people.csv", status="running", created_by_id=admin.id)
    db_session.add(job)
    db_session.flush()
    message = _message(db_session, "imports.run", job_id=job.id)
    db_session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id).values(
        state="running", runs=outbox.MAX_RUNS, due_at=utcnow() - timedelta(seconds=1)))
    db_session.commit()
    outbox.reconcile()  # the lease of its last run is over: no more runs
    db_session.expire_all()
    assert _state(db_session, message.id).state == "failed"
    assert db_session.get(ImportJob, job.id).status == "failed"

    login(admin)
    page = client.get(f"/admin/imports/{job.id}").get_data(as_text=True)
    assert f'action="/admin/imports/{job.id}/retry"' in page
    client.post(f"/admin/imports/{job.id}/retry")
    db_session.expire_all()
    queued = db_session.scalars(select(OutboxMessage).where(OutboxMessage.task == "imports.run",
                                                           OutboxMessage.id != message.id)).all()
    assert len(queued) == 1 and queued[0].kwargs == {"job_id": job.id}
    # Run eagerly after the commit: the file does not exist, so this run fails cleanly on the job.
    assert db_session.get(ImportJob, job.id).status == "failed"
    assert "missing from the file store" in db_session.get(ImportJob, job.id).message


@pytest.mark.parametrize("state, age", [("dispatched", outbox.START_WITHIN), ("running", outbox.LEASE)])
def test_the_reconciler_sends_again_what_was_lost_or_whose_worker_died(app, db_session, state, age):
    message = _message(db_session, "certificates.render", certificate_id=0)
    past = utcnow() - age - timedelta(seconds=1)
    db_session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id).values(
        state=state, dispatched_at=past, due_at=past + age, runs=1 if state == "running" else 0))
    db_session.commit()
    assert outbox.reconcile() == 1
    row = _state(db_session, message.id)
    # Eager in tests: sent means run — the task found no certificate and finished.
    assert row.state == "done" and row.attempts == 1


def test_the_reconciler_leaves_fresh_and_finished_work_alone(app, db_session):
    fresh = _message(db_session, "certificates.render", certificate_id=0)
    done = _message(db_session, "certificates.render", certificate_id=-1)
    db_session.execute(update(OutboxMessage).where(OutboxMessage.id == done.id).values(state="done"))
    db_session.commit()
    assert outbox.reconcile() == 0
    assert _state(db_session, fresh.id).state == "queued" and _state(db_session, done.id).state == "done"


def test_with_the_embedded_runner_nothing_runs_in_the_request(app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_TASK_MODE", "runner")
    message = outbox.enqueue("certificates.render", certificate_id=0)
    db_session.commit()
    assert outbox.dispatch_ready() == 0
    assert _state(db_session, message.id).state == "queued"


def test_stats_count_open_and_failed_work(app, db_session):
    before = outbox.stats()
    _message(db_session)
    failed = _message(db_session)
    db_session.execute(update(OutboxMessage).where(OutboxMessage.id == failed.id).values(state="failed"))
    db_session.commit()
    after = outbox.stats()
    assert after["open"] == before["open"] + 1 and after["failed"] == before["failed"] + 1
    assert after["oldest_open_seconds"] >= 0


def test_a_dispatched_message_is_due_again_after_the_configured_start_bound(app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_OUTBOX_START_SECONDS", 6)
    monkeypatch.setitem(app.config, "LMS_TASK_MODE", "celery")
    message = _message(db_session, "certificates.render", certificate_id=0)
    sent = []
    monkeypatch.setattr(app.extensions["celery"].tasks["certificates.render"], "apply_async",
                        lambda **kwargs: sent.append(kwargs))
    before = utcnow()
    assert outbox._send([message]) == 1
    row = _state(db_session, message.id)
    assert row.state == "dispatched" and len(sent) == 1
    assert timedelta(seconds=5) < row.due_at - before < timedelta(seconds=8)
