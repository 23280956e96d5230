from flask import Blueprint
from markupsafe import Markup

from lms.offline import REGISTRATION, controllers

bp = Blueprint("offline", __name__)
bp.add_url_rule("/sw.js", view_func=controllers.service_worker)
bp.add_url_rule("/manifest.webmanifest", view_func=controllers.web_manifest)
bp.add_url_rule("/offline", view_func=controllers.page)
bp.add_url_rule("/courses/<slug>/offline.json", view_func=controllers.course)
bp.add_url_rule("/offline/token", view_func=controllers.token)


@bp.app_context_processor
def _registration():
    # A constant script of ours: bandit's B704 does not apply.
    return {"sw_registration": Markup(REGISTRATION)}  # nosec B704
