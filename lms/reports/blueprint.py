from flask import Blueprint

from lms.reports import controllers
from lms.reports.forms import month_choices

bp = Blueprint("reports", __name__)
bp.add_app_template_global(month_choices)
bp.add_url_rule("/reports", view_func=controllers.index)
bp.add_url_rule("/reports/localities/<int:locality_id>", view_func=controllers.locality)
bp.add_url_rule("/reports/localities/<int:locality_id>/coverage.<any(csv, xlsx):fmt>", view_func=controllers.export_table)
bp.add_url_rule("/reports/localities/<int:locality_id>/learners.<any(csv, xlsx):fmt>", view_func=controllers.export_learners,
                methods=("GET", "POST"))
bp.add_url_rule("/reports/localities/<int:locality_id>/community.<any(csv, xlsx):fmt>",
                view_func=controllers.export_community, methods=("POST",))
bp.add_url_rule("/reports/exports/<int:export_id>", view_func=controllers.export_status)
bp.add_url_rule("/reports/exports/<int:export_id>/retry", view_func=controllers.export_retry, methods=("POST",))
bp.add_url_rule("/reports/exports/<int:export_id>/download", view_func=controllers.export_download)
bp.add_url_rule("/reports/localities/<int:locality_id>/targets", view_func=controllers.targets, methods=("GET", "POST"))
