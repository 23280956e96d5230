"""Queue index work whenever content changes, whoever changed it (import, browser editor, librarian).

A session listener rather than calls sprinkled through every feature: a flush that wrote a course,
a lesson, a library item or a library file notes what to re-index; just before the commit the notes
become outbox messages in the same transaction (so the work exists if and only if the change
committed). One message per course or item per transaction, however many lessons changed.
"""

from sqlalchemy import event

_NOTES = "lms_search_reindex"


def _targets(instance):
    from lms.catalog.models import Course, Lesson, Module
    from lms.library.models import LibraryFile, LibraryItem

    if isinstance(instance, Course):
        return [("search.index_course", {"course_id": instance.id})]
    if isinstance(instance, (Lesson, Module)) and instance.course_id is not None:
        return [("search.index_course", {"course_id": instance.course_id})]
    if isinstance(instance, LibraryItem):
        return [("search.index_library_item", {"item_id": instance.id})]
    if isinstance(instance, LibraryFile) and instance.item_id is not None:
        return [("search.index_library_item", {"item_id": instance.item_id})]
    return []


def install(session_class) -> None:
    if getattr(session_class, "_lms_search_hooks", False):
        return
    session_class._lms_search_hooks = True

    @event.listens_for(session_class, "after_flush")
    def _note(session, _context):
        notes = session.info.setdefault(_NOTES, {})
        for instance in (*session.new, *session.dirty, *session.deleted):
            if instance in session.dirty and not session.is_modified(instance, include_collections=False):
                continue
            for task, kwargs in _targets(instance):
                notes[(task, tuple(sorted(kwargs.items())))] = (task, kwargs)

    @event.listens_for(session_class, "before_commit")
    def _enqueue(session):
        if session.new or session.dirty or session.deleted:
            session.flush()  # what is still pending is noted too
        notes = session.info.pop(_NOTES, {})
        if notes:
            from lms.core.outbox import enqueue_many

            for task in {task for task, _ in notes.values()}:
                enqueue_many(task, [kwargs for name, kwargs in notes.values() if name == task])

    @event.listens_for(session_class, "after_rollback")
    def _forget(session):
        session.info.pop(_NOTES, None)
