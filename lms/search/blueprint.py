from flask import Blueprint

from lms.search import controllers

bp = Blueprint("search", __name__)
bp.add_url_rule("/search", view_func=controllers.search)
