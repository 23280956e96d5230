from flask import Blueprint

from lms.imports import controllers

bp = Blueprint("imports", __name__, url_prefix="/admin/imports")
bp.add_url_rule("/", view_func=controllers.index, methods=["GET", "POST"])
bp.add_url_rule("/<int:job_id>/preview", view_func=controllers.preview, methods=["GET", "POST"])
bp.add_url_rule("/<int:job_id>", view_func=controllers.status)
bp.add_url_rule("/<int:job_id>/errors.csv", view_func=controllers.errors_file)
bp.add_url_rule("/<int:job_id>/retry", view_func=controllers.retry, methods=["POST"])
