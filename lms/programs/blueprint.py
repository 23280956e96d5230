from flask import Blueprint

from lms.programs import controllers
from lms.programs.forms import audience_label, audience_nouns
from lms.programs.queries import assisted_attempts_count

bp = Blueprint("programs", __name__)
bp.add_url_rule("/programs", view_func=controllers.index)
bp.add_url_rule("/programs/<slug>", view_func=controllers.show)
bp.add_url_rule("/admin/programs/", view_func=controllers.admin_index)
bp.add_url_rule("/admin/programs/new", view_func=controllers.edit, methods=["GET", "POST"])
bp.add_url_rule("/admin/programs/<int:program_id>/edit", view_func=controllers.edit, methods=["GET", "POST"])
bp.add_url_rule("/admin/programs/courses/<slug>/prerequisites", view_func=controllers.course_prerequisites,
                 methods=["GET", "POST"])
bp.add_app_template_global(audience_label)
bp.add_app_template_global(audience_nouns)
bp.add_app_template_global(assisted_attempts_count)  # the quiz result tells a learner when an assisted pass does not count
