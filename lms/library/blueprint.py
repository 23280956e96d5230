from flask import Blueprint

from lms.library import controllers, fast_pages  # noqa: F401 - fast_pages registers the pages answered below Flask

bp = Blueprint("library", __name__)
bp.add_url_rule("/library", view_func=controllers.index)
bp.add_url_rule("/library/new", view_func=controllers.new, methods=["GET", "POST"])
bp.add_url_rule("/library/<slug>", view_func=controllers.show)
bp.add_url_rule("/library/<slug>/file", view_func=controllers.download)
bp.add_url_rule("/library/<slug>/captions", view_func=controllers.captions)
bp.add_url_rule("/library/<slug>/versions/<int:file_id>", view_func=controllers.old_version)
bp.add_url_rule("/library/<slug>/edit", view_func=controllers.edit, methods=["GET", "POST"])
bp.add_url_rule("/library/<slug>/archive", view_func=controllers.archive, methods=["POST"])
