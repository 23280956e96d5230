from flask import Blueprint

from lms.enrollment import controllers, offline

bp = Blueprint("enrollment", __name__)
bp.add_url_rule("/courses/<slug>/enrol", view_func=controllers.enrol, methods=["POST"])
bp.add_url_rule("/courses/<slug>/lessons/<int:lesson_id>/done", view_func=controllers.set_lesson_done, methods=["POST"])
bp.add_url_rule("/my", view_func=controllers.my_learning)
bp.add_url_rule("/programs/<slug>/enrol", view_func=controllers.enrol_in_program, methods=["POST"])
bp.add_url_rule("/offline/progress", view_func=offline.sync_progress, methods=["POST"])
