from flask import Blueprint

from lms.assignments import controllers

bp = Blueprint("assignments", __name__, url_prefix="/admin/assignments")
bp.add_url_rule("/", view_func=controllers.index)
bp.add_url_rule("/new", view_func=controllers.new, methods=["GET", "POST"])
bp.add_url_rule("/<int:rule_id>/deactivate", view_func=controllers.deactivate, methods=["POST"])
