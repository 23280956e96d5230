from flask import g, jsonify, request

from lms.api.auth import token_required
from lms.api.openapi import spec
from lms.core.lifecycle import get_or_404, view
from lms.core.permissions import require
from lms.localities.models import Locality
from lms.reports import queries, summary
from lms.reports.forms import ReportInputError, parse_filters


def _unit(unit: Locality) -> dict:
    return {"id": unit.id, "scheme": unit.scheme, "level": unit.level, "code": unit.code, "name": unit.name,
            "is_current": unit.is_current}


@view
def openapi():
    return jsonify(spec())


@view
@token_required
def scope():
    agency = g.api_token.agency
    return jsonify(scope=_unit(g.api_token.locality),
                   agency={"id": agency.id, "code": agency.code, "name": agency.name} if agency else None)


@view
@token_required
def locality(locality_id):
    unit = get_or_404(Locality, locality_id)
    require(g.api_token.can_view_locality(unit))
    try:
        mode, filters = parse_filters(request.args)
    except ReportInputError as error:
        return jsonify(error=400, message=str(error)), 400
    if g.api_token.agency is not None:
        try:
            filters = queries.restrict_to_agencies(filters, [g.api_token.agency])
        except queries.ScopeError:
            require(False)
    rows = queries.coverage(unit, mode, filters, with_targets=False)
    refreshed = summary.last_refresh()
    return jsonify(
        locality=_unit(unit), mode=mode, filters=filters.as_params(),
        refreshed_at=refreshed.finished_at.isoformat() + "Z" if refreshed else None,
        rows=[dict(locality=_unit(row.locality), **row.as_dict()) for row in rows],
        total=queries.totals(rows).as_dict(),
        # Targets count everyone in the unit: not for a token narrowed to one agency.
        targets=[] if g.api_token.agency else [item.as_dict() for item in queries.target_progress(unit)],
    )
