from flask import Blueprint

from lms.authoring import controllers as c
from lms.authoring import quiz_views

bp = Blueprint("authoring", __name__, url_prefix="/author")
bp.add_url_rule("/", view_func=c.index)
bp.add_url_rule("/courses", view_func=c.create_course, methods=["POST"])
bp.add_url_rule("/preview.json", view_func=c.preview, methods=["POST"])
bp.add_url_rule("/courses/<slug>", view_func=c.course, methods=["GET", "POST"])
bp.add_url_rule("/courses/<slug>/status", view_func=c.set_status, methods=["POST"])
bp.add_url_rule("/courses/<slug>/owners", view_func=c.add_owner, methods=["POST"])
bp.add_url_rule("/courses/<slug>/owners/<int:user_id>/remove", view_func=c.remove_owner, methods=["POST"])
bp.add_url_rule("/courses/<slug>/assets", view_func=c.upload, methods=["POST"])
bp.add_url_rule("/courses/<slug>/modules", view_func=c.add_module, methods=["POST"])
bp.add_url_rule("/courses/<slug>/modules/<int:module_id>", view_func=c.module, methods=["GET", "POST"])
bp.add_url_rule("/courses/<slug>/modules/<int:module_id>/move", view_func=c.move_module, methods=["POST"])
bp.add_url_rule("/courses/<slug>/modules/<int:module_id>/lessons", view_func=c.add_lesson, methods=["POST"])
bp.add_url_rule("/courses/<slug>/modules/<int:module_id>/quizzes", view_func=c.add_quiz, methods=["POST"])
bp.add_url_rule("/courses/<slug>/lessons/<int:lesson_id>/archive", view_func=c.archive_lesson, methods=["POST"])
bp.add_url_rule("/courses/<slug>/lessons/<int:lesson_id>", view_func=c.lesson, methods=["GET", "POST"])
bp.add_url_rule("/courses/<slug>/lessons/<int:lesson_id>/move", view_func=c.move_lesson, methods=["POST"])
bp.add_url_rule("/courses/<slug>/lessons/<int:lesson_id>/history", view_func=c.history)
bp.add_url_rule("/courses/<slug>/lessons/<int:lesson_id>/revisions/<int:revision_id>", view_func=c.revision)
bp.add_url_rule("/courses/<slug>/lessons/<int:lesson_id>/revisions/<int:revision_id>/revert", view_func=c.revert,
                methods=["POST"])
bp.add_url_rule("/courses/<slug>/quizzes/<int:quiz_id>", view_func=c.quiz, methods=["GET", "POST"])
bp.add_url_rule("/courses/<slug>/quizzes/<int:quiz_id>/settings", view_func=quiz_views.quiz_settings_view,
                methods=["GET", "POST"])
bp.add_url_rule("/courses/<slug>/questions", view_func=quiz_views.question_bank)
