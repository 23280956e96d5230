from flask import Blueprint

from lms.audit import controllers

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")
bp.add_url_rule("/", view_func=controllers.index)
bp.add_url_rule("/audit.csv", view_func=controllers.export_csv)
