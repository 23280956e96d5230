from flask import Blueprint

from lms.practice import controllers

bp = Blueprint("practice", __name__)
_BASE = "/courses/<slug>/lessons/<int:lesson_id>/practice"
bp.add_url_rule(f"{_BASE}/start", view_func=controllers.start, methods=["POST"])
bp.add_url_rule(f"{_BASE}/answer", view_func=controllers.answer, methods=["POST"])
bp.add_url_rule(f"{_BASE}/hint", view_func=controllers.hint, methods=["POST"])
bp.add_url_rule(f"{_BASE}/next", view_func=controllers.next_step, methods=["POST"])
bp.add_url_rule(f"{_BASE}/funnel", view_func=controllers.funnel)
