from flask import Blueprint

from lms.certificates import controllers

bp = Blueprint("certificates", __name__)
bp.add_url_rule("/verify", view_func=controllers.verify_form)
bp.add_url_rule("/verify/<serial>", view_func=controllers.verify)
bp.add_url_rule("/my/certificates", view_func=controllers.my_certificates)
