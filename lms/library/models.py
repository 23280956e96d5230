"""The e-library (học liệu điện tử): documents, media, links and articles beside the courses.

Reading needs no account. Librarians (a role scoped like managers: a grant without a locality is
province-wide, one with a locality covers that subtree) upload, edit, replace files and archive.
A replaced file is kept as an older version (`LibraryFile.is_current` false), never deleted.
"""

from lms.core.db import IdMixin, TimestampMixin, utcnow
from lms.extensions import db

ITEM_KINDS = ("document", "video", "audio", "link", "article")
ITEM_STATUSES = ("draft", "published", "archived")
FILE_ROLES = ("main", "captions")

item_collections = db.Table(
    "library_item_collections",
    db.Column("item_id", db.Integer, db.ForeignKey("library_items.id", ondelete="CASCADE"), primary_key=True),
    db.Column("collection_id", db.Integer, db.ForeignKey("library_collections.id", ondelete="CASCADE"),
              primary_key=True),
)


class LibraryCollection(IdMixin, db.Model):
    __tablename__ = "library_collections"

    slug = db.Column(db.String(120), nullable=False, unique=True)
    title = db.Column(db.String(200), nullable=False)
    description = db.Column(db.Text, nullable=False, default="")
    position = db.Column(db.Integer, nullable=False, default=0)

    items = db.relationship("LibraryItem", secondary=item_collections, back_populates="collections")


class LibraryItem(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "library_items"
    # The listing's order, newest first, read backwards (lms.library.queries.NEWEST_FIRST; migration 0016_library).
    __table_args__ = (db.Index("ix_library_items_newest", "status", "published_on", "id"),)

    slug = db.Column(db.String(120), nullable=False, unique=True)
    kind = db.Column(db.String(16), nullable=False)
    title = db.Column(db.String(300), nullable=False)
    title_folded = db.Column(db.String(300), nullable=False, index=True)
    summary = db.Column(db.Text, nullable=False, default="")
    # An article's text, or the description shown above a file.
    body_md = db.deferred(db.Column(db.Text, nullable=False, default=""))
    body_html = db.deferred(db.Column(db.Text, nullable=False, default=""))
    topic = db.Column(db.String(120), nullable=False, default="")
    audience = db.Column(db.JSON, nullable=False, default=list)
    language = db.Column(db.String(8), nullable=False, default="vi")
    # None: province-wide material; else a commune's (or district's) own.
    locality_id = db.Column(db.Integer, db.ForeignKey("localities.id"), index=True)
    agency = db.Column(db.String(300), nullable=False, default="")
    licence = db.Column(db.String(200), nullable=False, default="")
    published_on = db.Column(db.Date)
    version = db.Column(db.String(40), nullable=False, default="")
    url = db.Column(db.String(1000))
    status = db.Column(db.String(16), nullable=False, default="published", index=True)
    downloads = db.Column(db.Integer, nullable=False, default=0)
    source_path = db.Column(db.String(500))
    source_hash = db.Column(db.String(64))
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    locality = db.relationship("Locality")
    collections = db.relationship("LibraryCollection", secondary=item_collections, back_populates="items",
                                  order_by="LibraryCollection.position")
    files = db.relationship("LibraryFile", back_populates="item", order_by="LibraryFile.id.desc()",
                            cascade="all, delete-orphan")

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    def current_file(self, role: str = "main"):
        return next((f for f in self.files if f.role == role and f.is_current), None)

    def can_view(self, user) -> bool:
        return self.is_published or self.can_manage(user)

    def can_manage(self, user) -> bool:
        return can_librarian(user, self.locality)


def is_librarian(user) -> bool:
    """May add items at all (for some locality, or province-wide)."""
    return bool(user and user.is_authenticated and (user.is_admin or user.has_role("librarian")))


def can_manage_at(user, locality_id: int | None) -> bool:
    """LibraryItem.can_manage for an item known by its locality's id: the locality is read only for a
    librarian (a scoped grant needs it), so a reader's view of an item loads no item object."""
    if not is_librarian(user):
        return False
    from lms.localities.models import Locality

    return can_librarian(user, db.session.get(Locality, locality_id) if locality_id else None)


def can_librarian(user, locality=None) -> bool:
    """Admins always; a librarian with a province-wide grant anywhere; one scoped to a locality
    subtree only for material of that subtree."""
    if not (user and user.is_authenticated):
        return False
    if user.is_admin:
        return True
    grants = [g for g in user.grants if g.role == "librarian"]
    if any(g.locality is None for g in grants):
        return True
    return locality is not None and any(g.locality.contains(locality) for g in grants)


class LibraryFile(IdMixin, TimestampMixin, db.Model):
    """One uploaded file of an item; replacing the main file adds a row and keeps the old one."""

    __tablename__ = "library_files"

    item_id = db.Column(db.Integer, db.ForeignKey("library_items.id", ondelete="CASCADE"), nullable=False, index=True)
    role = db.Column(db.String(16), nullable=False, default="main")
    number = db.Column(db.Integer, nullable=False, default=1)  # 1, 2, 3… per item and role
    key = db.Column(db.String(500), nullable=False)
    filename = db.Column(db.String(300), nullable=False)
    content_type = db.Column(db.String(120), nullable=False)
    size = db.Column(db.Integer, nullable=False, default=0)
    sha256 = db.Column(db.String(64), nullable=False)
    is_current = db.Column(db.Boolean, nullable=False, default=True)
    # Text taken out of a PDF/DOCX/ODT/captions by the worker, for search: pending, done, none, failed.
    text = db.deferred(db.Column(db.Text, nullable=False, default=""))
    text_status = db.Column(db.String(12), nullable=False, default="pending")
    uploaded_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))

    item = db.relationship("LibraryItem", back_populates="files")
    uploaded_by = db.relationship("User")


class LibraryUsage(db.Model):
    """Which lessons link or embed which items (written by the search indexer's pass over a course)."""

    __tablename__ = "library_usages"

    item_slug = db.Column(db.String(120), primary_key=True)
    lesson_id = db.Column(db.Integer, db.ForeignKey("lessons.id", ondelete="CASCADE"), primary_key=True, index=True)
    course_id = db.Column(db.Integer, db.ForeignKey("courses.id", ondelete="CASCADE"), nullable=False, index=True)
