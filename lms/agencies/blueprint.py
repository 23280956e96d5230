from flask import Blueprint

from lms.agencies import controllers

bp = Blueprint("agencies", __name__, url_prefix="/admin/agencies")
bp.add_url_rule("/", view_func=controllers.index)
bp.add_url_rule("/new", view_func=controllers.edit, methods=["GET", "POST"])
bp.add_url_rule("/<int:agency_id>/edit", view_func=controllers.edit, methods=["GET", "POST"])
bp.add_url_rule("/import", view_func=controllers.import_csv, methods=["POST"])
