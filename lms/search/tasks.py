"""Index work, queued through the outbox by lms.search.hooks."""

from celery import shared_task

from lms.extensions import db
from lms.search import indexer


@shared_task(name="search.index_course")
def index_course(course_id: int):
    count = indexer.index_course(course_id)
    db.session.commit()
    return count


@shared_task(name="search.index_library_item")
def index_library_item(item_id: int):
    count = indexer.index_library_item(item_id)
    db.session.commit()
    return count
