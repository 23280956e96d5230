from flask import Blueprint

from lms.accounts import audience_views, controllers

bp = Blueprint("accounts", __name__)
bp.add_url_rule("/login", view_func=controllers.login, methods=["GET", "POST"])
bp.add_url_rule("/logout", view_func=controllers.logout, methods=["POST"])
bp.add_url_rule("/register", view_func=controllers.register, methods=["GET", "POST"])
bp.add_url_rule("/language", view_func=controllers.set_language, methods=["POST"])
bp.add_url_rule("/text-size", view_func=controllers.set_text_size, methods=["POST"])
bp.add_url_rule("/profile", view_func=controllers.profile, methods=["GET", "POST"])
bp.add_url_rule("/admin/users/<int:user_id>", view_func=controllers.user_admin, methods=["GET", "POST"])
bp.add_url_rule("/set-password/<token>", view_func=controllers.set_password, methods=["GET", "POST"])

from lms.accounts import recovery_views, self_service, session_views, sso_views, strength_views  # noqa: E402  (they import controllers)

bp.add_url_rule("/password/strength", view_func=strength_views.password_strength, methods=["POST"])
bp.add_url_rule("/forgot-password", view_func=recovery_views.forgot_password, methods=["GET", "POST"])
bp.add_url_rule("/forgot-password/code", view_func=recovery_views.reset_with_code, methods=["GET", "POST"])
bp.add_url_rule("/reset-password/<token>", view_func=recovery_views.reset_password, methods=["GET", "POST"])
bp.add_url_rule("/profile/password", view_func=self_service.change_password, methods=["GET", "POST"])
bp.add_url_rule("/profile/sessions", view_func=session_views.my_sessions, endpoint="my_sessions")
bp.add_url_rule("/profile/sessions/<int:record_id>/end", view_func=session_views.end_session, endpoint="end_session",
                methods=["POST"])
bp.add_url_rule("/profile/sessions/end-others", view_func=session_views.end_other_sessions,
                endpoint="end_other_sessions", methods=["POST"])
bp.add_url_rule("/profile/edit", view_func=self_service.edit_profile, methods=["GET", "POST"])
bp.add_url_rule("/profile/email", view_func=self_service.change_email, methods=["GET", "POST"])
bp.add_url_rule("/profile/email/<token>", view_func=self_service.confirm_email)
bp.add_url_rule("/profile/phone", view_func=self_service.change_phone, methods=["GET", "POST"])
bp.add_url_rule("/profile/phone/confirm", view_func=self_service.confirm_phone, methods=["GET", "POST"])
bp.add_url_rule("/admin/users/<int:user_id>/set-password-link", view_func=self_service.send_set_password_link,
                methods=["POST"])
bp.add_url_rule("/sso/<name>", "sso_login", view_func=sso_views.login_with)
bp.add_url_rule("/sso/<name>/callback", "sso_callback", view_func=sso_views.callback)
bp.add_url_rule("/sso/link", "sso_link", view_func=sso_views.confirm_link, methods=["GET", "POST"])
bp.add_url_rule("/sso/complete", "sso_complete", view_func=sso_views.complete, methods=["GET", "POST"])
bp.add_url_rule("/manage/audience-requests", view_func=audience_views.requests_page, endpoint="audience_requests")
bp.add_url_rule("/manage/audience-requests/<int:user_id>", view_func=audience_views.decide, endpoint="audience_decide",
                methods=["POST"])
