"""Who reaches the editor: every view needs a trainer or admin, every course view
`course.can_manage(current_user)` (its owners and admins). Used by all /author views."""

from flask_login import current_user

from lms.catalog.models import Course
from lms.catalog.queries import course_by_slug
from lms.core.lifecycle import found, get_or_404
from lms.core.permissions import login_required, require, role_required


def author_only(view):
    return login_required(role_required("trainer")(view))


def managed_course(slug) -> Course:
    course = found(course_by_slug(slug))
    require(course.can_manage(current_user))
    return course


def course_item(model, item_id, course, **options):
    """A module, lesson or quiz of `course` by id, or 404 (ids of other courses included)."""
    return get_or_404(model, item_id, **options, course_id=course.id)
