"""State changes for agencies. Each flushes; the caller commits."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.agencies.models import AGENCY_KINDS, Agency
from lms.core import audit
from lms.core.text import fold, nfc
from lms.extensions import db
from lms.localities.models import Locality


class AgencyError(ValueError):
    """A rule about agencies was broken; the message is shown to the user."""


def _set_path(agency: Agency) -> None:
    """Recompute the path of `agency` and of everything below it (after a move)."""
    old = agency.path
    new = (agency.parent.path if agency.parent else "/") + f"{agency.id}/"
    if old == new:
        return
    agency.path = new
    if old:
        db.session.flush()
        # Descendants keep their tail; one UPDATE rewrites the prefix.
        for child in db.session.scalars(select(Agency).where(Agency.path.startswith(old), Agency.id != agency.id)):
            child.path = new + child.path[len(old):]
    db.session.flush()


def save_agency(agency: Agency | None, *, code: str, name: str, kind: str = "other", parent: Agency | None = None,
                locality: Locality | None = None, actor=None) -> Agency:
    code = nfc(code).upper()
    name = nfc(name)
    if not code or not name:
        raise AgencyError(_l("An agency needs a code and a name."))
    if kind not in AGENCY_KINDS:
        raise AgencyError(_l("Unknown kind of agency: %(kind)s", kind=kind))
    clash = db.session.scalar(select(Agency).where(Agency.code == code))
    if clash is not None and clash is not agency:
        raise AgencyError(_l("Another agency already has the code %(code)s.", code=code))
    if agency is not None and parent is not None and (parent is agency or agency.contains(parent)):
        raise AgencyError(_l("An agency cannot be placed under itself or one of its own offices."))
    created = agency is None
    if created:
        agency = Agency(code=code)
        db.session.add(agency)
    agency.code, agency.name, agency.name_folded, agency.kind = code, name, fold(name), kind
    agency.parent, agency.locality = parent, locality
    db.session.flush()
    _set_path(agency)
    audit.record(actor, "agency.create" if created else "agency.update", agency, code=code)
    return agency


def import_agencies_csv(data: bytes, actor=None) -> dict:
    """Create or update agencies from CSV, set-based (lms.agencies.bulk); one audit event for the file.
    Returns {"created", "updated", "errors": [(row number, message)]}. Flushes; the caller commits."""
    from lms.agencies.bulk import AgencyFileError, import_agencies

    try:
        counts = import_agencies(data)
    except AgencyFileError as error:
        raise AgencyError(str(error)) from None
    audit.record(actor, "agency.import", Agency(), created=counts["created"], updated=counts["updated"],
                 failed=len(counts["errors"]))
    return counts



