from flask import Blueprint

from lms.catalog import controllers, fast_lesson  # noqa: F401 - fast_lesson registers the page below Flask

bp = Blueprint("catalog", __name__)
bp.add_url_rule("/courses", view_func=controllers.index)
bp.add_url_rule("/courses/<slug>", view_func=controllers.course)
bp.add_url_rule("/courses/<slug>/lessons/<int:lesson_id>", view_func=controllers.lesson)
bp.add_url_rule("/courses/<slug>/assets/<path:path>", view_func=controllers.asset)
bp.add_url_rule("/courses/<slug>/lessons/key/<path:key>", view_func=controllers.lesson_by_key)
