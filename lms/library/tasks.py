from celery import shared_task

from lms.core import outbox
from lms.core.files import get_store
from lms.extensions import db
from lms.library.extract import EXTRACTABLE, extract_text
from lms.library.models import LibraryFile


@shared_task(name="library.extract_text")
def extract_file_text(file_id: int):
    """Read the text of an uploaded file; saving it re-indexes the item (lms.search.hooks)."""
    file = db.session.get(LibraryFile, file_id)
    if file is None or file.text_status == "done":
        return None
    if file.content_type not in EXTRACTABLE:
        file.text_status = "none"
        db.session.commit()
        return 0
    data = get_store().get(file.key)
    if data is None:
        raise FileNotFoundError(f"{file.key} is missing from the file store")
    try:
        text = extract_text(data, file.content_type, on_page=lambda _n: outbox.extend_lease())
    except Exception:  # noqa: BLE001 - a damaged file stays downloadable, just not searchable
        file.text_status = "failed"
        db.session.commit()
        return 0
    file.text = text.replace("\x00", "")
    file.text_status = "done"
    db.session.commit()
    return len(file.text)
