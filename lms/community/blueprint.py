from flask import Blueprint

from lms.community import controllers, home

bp = Blueprint("community", __name__, url_prefix="/community")
bp.add_url_rule("", view_func=controllers.index)
bp.add_url_rule("/residents/new", view_func=controllers.new_resident, methods=["GET", "POST"])
bp.add_url_rule("/residents/<int:user_id>/handoff", view_func=controllers.handoff, methods=["GET", "POST"])
bp.add_url_rule("/residents/<int:user_id>/assist", view_func=controllers.assist, methods=["POST"])
bp.add_url_rule("/assist/end", view_func=controllers.end_assist, methods=["POST"])
bp.add_url_rule("/team", view_func=controllers.team, methods=["GET", "POST"])
bp.add_url_rule("/team/targets", view_func=controllers.targets, methods=["POST"])
bp.add_url_rule("/team/hamlets", view_func=controllers.hamlets, methods=["POST"])
bp.add_url_rule("/contact", view_func=controllers.contact, methods=["POST"])
bp.before_app_request(controllers.guard_assisted_session)


@bp.app_context_processor
def _assisted_marks():
    """For the quiz result and the certificate record: whether work was done in an assisted session."""
    from lms.community.queries import assisted_attempts, was_assisted

    return {"was_assisted": was_assisted, "assisted_attempts": assisted_attempts}

# The site's front page: residents' home (lms/community/home.py); everyone else is sent to the catalogue.
home_bp = Blueprint("home", __name__)
home_bp.add_url_rule("/", view_func=home.home)
