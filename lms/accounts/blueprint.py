from flask import Blueprint

from lms.accounts import audience_views, controllers

bp = Blueprint("accounts", __name__)
bp.add_url_rule("/login", view_func=controllers.login, methods=["GET", "POST"])
bp.add_url_rule("/logout", view_func=controllers.logout, methods=["POST"])
bp.add_url_rule("/register", view_func=controllers.register, methods=["GET", "POST"])
bp.add_url_rule("/language", view_func=controllers.set_language, methods=["POST"])
bp.add_url_rule("/profile", view_func=controllers.profile, methods=["GET", "POST"])
bp.add_url_rule("/admin/users/<int:user_id>", view_func=controllers.user_admin, methods=["GET", "POST"])
bp.add_url_rule("/set-password/<token>", view_func=controllers.set_password, methods=["GET", "POST"])
bp.add_url_rule("/manage/audience-requests", view_func=audience_views.requests_page, endpoint="audience_requests")
bp.add_url_rule("/manage/audience-requests/<int:user_id>", view_func=audience_views.decide, endpoint="audience_decide",
                methods=["POST"])
