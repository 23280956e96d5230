from flask import Blueprint

from lms.core import background, controllers

bp = Blueprint("core", __name__)
bp.add_url_rule("/healthz", view_func=controllers.healthz)

bp.add_url_rule("/admin/background", view_func=background.overview, endpoint="background")
bp.add_url_rule("/admin/background/retry", view_func=background.retry, endpoint="background_retry", methods=["POST"])
bp.add_url_rule("/admin/background/repair", view_func=background.repair_now, endpoint="background_repair",
                methods=["POST"])
