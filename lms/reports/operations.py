"""Report state changes: targets and export jobs. Flush, never commit."""

import csv
import io
from datetime import date

from flask import current_app
from sqlalchemy import func, select

from lms.core.audit import record
from lms.core.db import lock_for
from lms.core.outbox import enqueue
from lms.extensions import db
from lms.localities.models import Locality
from lms.localities.queries import find_unit
from lms.reports.models import EXPORT_FORMATS, TARGET_AUDIENCES, LocalityTarget, ReportExport


class TargetError(ValueError):
    pass


def set_target(unit: Locality, audience: str, population: int, target_percent: int, due_on: date,
               actor=None) -> LocalityTarget:
    if audience not in TARGET_AUDIENCES:
        raise TargetError(f"unknown audience {audience!r}")
    if population < 1 or not 1 <= target_percent <= 100:
        raise TargetError("population must be positive and the share between 1 and 100")
    target = db.session.scalar(select(LocalityTarget).where(LocalityTarget.locality_id == unit.id,
                                                            LocalityTarget.audience == audience))
    if target is None:
        target = LocalityTarget(locality_id=unit.id, audience=audience)
        db.session.add(target)
    target.population, target.target_percent, target.due_on = population, target_percent, due_on
    target.updated_by_id = actor.id if actor else None
    db.session.flush()
    record(actor, "report_target.set", target, after={"locality": unit.id, "audience": audience,
                                                      "population": population, "percent": target_percent,
                                                      "due_on": due_on.isoformat()})
    return target


def import_targets(text: str, actor=None) -> int:
    """CSV with a header: locality (scheme/code), audience, population, target_percent, due_on (YYYY-MM-DD)."""
    count = 0
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        try:
            unit = find_unit((row.get("locality") or "").strip())
            if unit is None:
                raise TargetError(f"no locality {row.get('locality')!r}")
            set_target(unit, (row.get("audience") or "").strip(), int(row["population"]), int(row["target_percent"]),
                       date.fromisoformat(row["due_on"].strip()), actor)
        except (KeyError, TypeError, ValueError) as error:
            raise TargetError(f"line {line}: {error}") from None
        count += 1
    return count


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
