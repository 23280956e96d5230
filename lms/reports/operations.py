"""Report state changes: export jobs (targets: lms.targets, re-exported here). Flush, never commit."""


from flask import current_app
from sqlalchemy import func, select

from lms.core.audit import record
from lms.core.db import lock_for
from lms.core.outbox import enqueue
from lms.extensions import db
from lms.localities.models import Locality
from lms.reports.models import EXPORT_FORMATS, ReportExport


class ExportQuotaExceeded(Exception):
    """The person already has as many export jobs waiting or running as one may."""


def check_export_quota(user) -> None:
    """At most LMS_EXPORT_JOBS_PER_USER jobs of one person waiting or running: a script posting a thousand
    exports must not fill the workers' queue. Counted under a lock, so simultaneous posts cannot all pass."""
    lock_for(f"report-exports:{user.id}")
    active = db.session.scalar(select(func.count(ReportExport.id)).where(
        ReportExport.user_id == user.id, ReportExport.status.in_(("queued", "running"))))
    if active >= current_app.config["LMS_EXPORT_JOBS_PER_USER"]:
        raise ExportQuotaExceeded(active)


def start_export(user, unit: Locality, kind: str, fmt: str, params: dict) -> ReportExport:
    if fmt not in EXPORT_FORMATS:
        raise ValueError(fmt)
    check_export_quota(user)
    job = ReportExport(user_id=user.id, locality_id=unit.id, kind=kind, format=fmt, params=params)
    db.session.add(job)
    db.session.flush()
    enqueue("reports.export", export_id=job.id)
    record(user, "report_export.start", job, locality=unit.id, kind=kind, format=fmt, params=params)
    return job


def log_download(user, unit: Locality, kind: str, params: dict) -> None:
    """Personal data leaving the system is audited (Decree 13/2023), even when streamed at once."""
    record(user, "report_export.download", unit, kind=kind, params=params)
