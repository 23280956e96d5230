from flask import Blueprint

from lms.api import controllers

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.add_url_rule("/openapi.json", view_func=controllers.openapi)
bp.add_url_rule("/reports/scope", view_func=controllers.scope)
bp.add_url_rule("/reports/localities/<int:locality_id>", view_func=controllers.locality)
