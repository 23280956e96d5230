"""The lesson page answered below Flask when nothing about the view is unusual (lms/core/fast_pages.py).

The same row, the same checks and the same page key as the view's light path (controllers.lesson): a
published page lesson, read by a visitor or a signed-in learner whose visit writes nothing (the same
lesson as last time, within the visit resolution), whose page render_page has kept. Everything else —
a draft, a simulation, a first visit, the last lesson (its quiz is looked up), a page not kept yet —
is the view's.
"""

from types import SimpleNamespace

from lms.accounts.viewer import reader_below_flask
from lms.catalog import queries
from lms.catalog.controllers import _lesson_page_key, _pager_context
from lms.core import fast_pages
from lms.core.inputs import MAX_ID
from lms.enrollment.queries import visit_changes_something

PATTERN = r"/courses/(?P<slug>[a-z0-9][a-z0-9-]{0,199})/lessons/(?P<lesson_id>[1-9][0-9]{0,9})"


@fast_pages.page(PATTERN, "catalog.lesson")
def lesson(visit: fast_pages.Visit, slug: str, lesson_id: str):
    if int(lesson_id) > MAX_ID:
        return None
    environ = visit.request.environ
    found = reader_below_flask(environ, visit.person_ids, queries._lesson_page_statement(),
                               {"slug": slug, "lesson_id": int(lesson_id)})
    if found is None:
        return None
    person, row = found
    if row is None or row.status != "published" or row.archived_at is not None or row.kind == "simulation":
        return None
    enrolled = row.enrollment_id is not None
    if enrolled and environ.get("HTTP_X_OFFLINE_COPY") != "1" and visit_changes_something(
            row.id, row.progress_id is not None, row.last_lesson_id, row.last_seen_at):
        return None  # a visit to write
    outline = queries.outline_items(row)
    ids = [item.id for item in outline]
    if enrolled and (row.id not in ids or ids[-1] == row.id):
        return None  # the last lesson: its done button leads to the course's quiz, looked up by the view
    course = SimpleNamespace(id=row.course_id, slug=row.slug, title=row.course_title, is_published=True)
    lesson = SimpleNamespace(id=row.id, title=row.title, minutes=row.minutes, body_html=row.body_html)
    context = _pager_context(course, lesson, enrolled, row.completed_at is not None, outline)
    body = visit.kept_page("catalog/lesson.html", _lesson_page_key(context), person, row.unread or 0)
    return (body, {"X-Lesson-Version": str(row.version)}) if body is not None else None
