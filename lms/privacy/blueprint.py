from flask import Blueprint

from lms.privacy import controllers, gate

bp = Blueprint("privacy", __name__)
bp.add_url_rule("/privacy", view_func=controllers.notice)
bp.before_app_request(gate.ask_for_review)
bp.add_url_rule("/privacy/review", view_func=controllers.review, methods=["GET", "POST"])
bp.add_url_rule("/profile/privacy", view_func=controllers.my_privacy)
bp.add_url_rule("/profile/privacy/consent", view_func=controllers.consent, methods=["POST"])
bp.add_url_rule("/profile/privacy/export", view_func=controllers.request_export, methods=["POST"])
bp.add_url_rule("/profile/privacy/export/<int:request_id>", view_func=controllers.download_export)
bp.add_url_rule("/profile/privacy/delete", view_func=controllers.deletion, methods=["POST"])
bp.add_url_rule("/admin/privacy", view_func=controllers.admin_notice, methods=["GET", "POST"])
bp.add_url_rule("/admin/data-requests", view_func=controllers.register)
