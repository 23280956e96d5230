from flask import Blueprint

from lms.core import controllers

bp = Blueprint("core", __name__)
bp.add_url_rule("/", view_func=controllers.home)
bp.add_url_rule("/healthz", view_func=controllers.healthz)
