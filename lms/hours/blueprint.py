from flask import Blueprint

from lms.hours import controllers

bp = Blueprint("hours", __name__)
bp.add_url_rule("/my/hours", view_func=controllers.mine)
bp.add_url_rule("/reports/hours", view_func=controllers.team)
