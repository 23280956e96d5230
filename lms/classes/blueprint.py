from flask import Blueprint

from lms.classes import controllers

bp = Blueprint("classes", __name__, url_prefix="/classes")
bp.add_url_rule("/", view_func=controllers.index)
bp.add_url_rule("/new", view_func=controllers.new, methods=["GET", "POST"])
bp.add_url_rule("/<int:class_id>", view_func=controllers.detail)
bp.add_url_rule("/<int:class_id>/sessions", view_func=controllers.add_session, methods=["POST"])
bp.add_url_rule("/<int:class_id>/members", view_func=controllers.add_member, methods=["POST"])
bp.add_url_rule("/<int:class_id>/members/remove", view_func=controllers.remove_member, methods=["POST"])
bp.add_url_rule("/<int:class_id>/sessions/<int:session_id>/attendance", view_func=controllers.attendance,
                methods=["GET", "POST"])
