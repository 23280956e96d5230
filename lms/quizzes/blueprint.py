from flask import Blueprint

from lms.quizzes import controllers

bp = Blueprint("quizzes", __name__)
bp.add_url_rule("/quizzes/<int:quiz_id>", view_func=controllers.take)
bp.add_url_rule("/quizzes/<int:quiz_id>/submit", view_func=controllers.submit, methods=["POST"])
bp.add_url_rule("/attempts/<int:attempt_id>", view_func=controllers.attempt)
