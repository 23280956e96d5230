from flask import Blueprint

from lms.sharing import controllers

bp = Blueprint("sharing", __name__)
bp.add_url_rule("/profile/results", view_func=controllers.mine)
bp.add_url_rule("/admin/result-deliveries", view_func=controllers.admin_list)
bp.add_url_rule("/admin/result-deliveries/<int:delivery_id>/retry", view_func=controllers.retry, methods=["POST"])
