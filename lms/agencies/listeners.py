"""Agencies made on another feature's request (lms.core.signals): the import worker's agencies file,
the synthetic test data. No feature imports this one's operations."""

from lms.agencies.operations import AgencyError, import_agencies_csv, save_agency
from lms.core.signals import agency_file_received, agency_requested


@agency_file_received.connect
def _import_file(_job, *, data: bytes, actor=None, **_):
    try:
        return import_agencies_csv(data, actor=actor)
    except AgencyError as error:
        return {"refused": str(error)}


@agency_requested.connect
def _make_agency(actor, *, code: str, name: str, kind: str, parent=None, **_):
    return save_agency(None, code=code, name=name, kind=kind, parent=parent, actor=actor)
