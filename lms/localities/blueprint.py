from flask import Blueprint

from lms.localities import controllers

bp = Blueprint("localities", __name__)
bp.add_url_rule("/localities/search", view_func=controllers.search)
