from flask import Blueprint

from lms.certificates import admin, controllers

bp = Blueprint("certificates", __name__)
bp.add_url_rule("/verify", view_func=controllers.verify_form)
bp.add_url_rule("/verify/<serial>", view_func=controllers.verify)
bp.add_url_rule("/verify/<serial>/certificate.pdf", view_func=controllers.public_pdf)
bp.add_url_rule("/verify/<serial>/credential.json", view_func=controllers.public_credential)
bp.add_url_rule("/verify/<serial>/credential.jwt", view_func=controllers.public_jwt)
bp.add_url_rule("/verify/<serial>/status.json", view_func=controllers.public_status)
bp.add_url_rule("/issuer.json", view_func=controllers.issuer_profile)
bp.add_url_rule("/issuer/jwks.json", view_func=controllers.issuer_jwks)
bp.add_url_rule("/my/certificates", view_func=controllers.my_certificates)
bp.add_url_rule("/my/certificates/<int:certificate_id>/certificate.pdf", view_func=controllers.my_pdf)
bp.add_url_rule("/my/certificates/<int:certificate_id>/credential.json", view_func=controllers.my_credential)
bp.add_url_rule("/my/certificates/<int:certificate_id>/credential.jwt", view_func=controllers.my_jwt)
bp.add_url_rule("/my/certificates/<int:certificate_id>/renew", view_func=controllers.renew, methods=["POST"])
bp.add_url_rule("/admin/certificates", view_func=admin.register, endpoint="admin_register")
bp.add_url_rule("/admin/certificates/<int:certificate_id>", view_func=admin.detail, endpoint="admin_detail")
bp.add_url_rule("/admin/certificates/<int:certificate_id>/revoke", view_func=admin.revoke, methods=["POST"],
                endpoint="admin_revoke")
bp.add_url_rule("/admin/certificates/<int:certificate_id>/restore", view_func=admin.restore, methods=["POST"],
                endpoint="admin_restore")
bp.add_url_rule("/admin/certificates/<int:certificate_id>/reissue", view_func=admin.reissue, methods=["POST"],
                endpoint="admin_reissue")
