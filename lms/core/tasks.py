"""Periodic work of the shared machinery (beat in production, the embedded runner in `make run`)."""

from celery import shared_task

from lms.core import outbox


@shared_task(name="core.reconcile_outbox")
def reconcile_outbox():
    return outbox.reconcile()


@shared_task(name="core.relay_outbox")
def relay_outbox():
    """The name beat used before the outbox had a lifecycle; messages already queued under it still run."""
    return outbox.reconcile()
