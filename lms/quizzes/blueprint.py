from flask import Blueprint

from lms.quizzes import controllers, trainer

bp = Blueprint("quizzes", __name__)
bp.add_url_rule("/quizzes/<int:quiz_id>", view_func=controllers.take)
bp.add_url_rule("/quizzes/<int:quiz_id>/start", view_func=controllers.start, methods=["POST"])
bp.add_url_rule("/quizzes/<int:quiz_id>/submit", view_func=controllers.submit, methods=["POST"])
bp.add_url_rule("/attempts/<int:attempt_id>", view_func=controllers.attempt)
bp.add_url_rule("/attempts/<int:attempt_id>/save", view_func=controllers.save, methods=["POST"])
bp.add_url_rule("/attempts/<int:attempt_id>/finish", view_func=controllers.finish, methods=["POST"])
bp.add_url_rule("/courses/<slug>/quizzes/manage", view_func=trainer.manage, methods=["GET", "POST"])
bp.add_url_rule("/quizzes/<int:quiz_id>/export.gift", view_func=trainer.export_gift)
bp.add_url_rule("/quizzes/<int:quiz_id>/attempts", view_func=trainer.overview)
bp.add_url_rule("/quizzes/<int:quiz_id>/grading", view_func=trainer.grading_queue, methods=["GET", "POST"])
bp.add_url_rule("/quizzes/<int:quiz_id>/regrade", view_func=trainer.regrade, methods=["POST"])
bp.add_url_rule("/quizzes/<int:quiz_id>/statistics", view_func=trainer.statistics_view)
