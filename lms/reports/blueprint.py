from flask import Blueprint

from lms.reports import controllers

bp = Blueprint("reports", __name__)
bp.add_url_rule("/reports", view_func=controllers.index)
bp.add_url_rule("/reports/localities/<int:locality_id>", view_func=controllers.locality)
