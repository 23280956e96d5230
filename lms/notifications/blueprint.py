from flask import Blueprint
from flask_login import current_user

from lms.notifications import controllers

bp = Blueprint("notifications", __name__)
bp.add_url_rule("/notifications", view_func=controllers.index)
bp.add_url_rule("/notifications/read", view_func=controllers.mark_read, methods=["POST"])
bp.add_url_rule("/notifications/settings", view_func=controllers.preferences, methods=["GET", "POST"])
bp.add_url_rule("/dev/mailbox", view_func=controllers.mailbox)


@bp.app_context_processor
def _unread():
    def unread_notifications():
        # A function, so pages that do not show the bell (errors) never query.
        if not current_user or not current_user.is_authenticated:
            return 0
        from lms.notifications.queries import unread_count

        return unread_count(current_user.id)

    return {"unread_notifications": unread_notifications}
