"""Library pages: browse and read without an account; librarians add, edit, replace files, archive."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.core.controllers import send_stored
from lms.core.inputs import text_id
from lms.core.lifecycle import discard, found, get_or_404, light_viewer, view, viewer_id
from lms.core.page_cache import render_page
from lms.core.permissions import login_required, require
from lms.extensions import db
from lms.library import operations, pages, queries
from lms.library.forms import ArchiveForm, ItemForm
from lms.library.models import LibraryFile, LibraryItem, can_librarian, can_manage_at, is_librarian
from lms.localities.models import Locality
from lms.search import queries as search_queries


@light_viewer
@view
def index():
    args = request.args
    query = args.get("q", "").strip()[:200]
    filters, page = pages.listing_filters(args)
    user = current_user._get_current_object()  # one proxy lookup for the view
    can_add = is_librarian(user)
    if query:  # search results: drawn per request, not kept
        results = search_queries.search(query, user, kind="library", audience=filters["audience"], page=page)
        listing = pages.render_listing(results=results, query=query, items=None, total=results.total,
                                       collections=queries.collections(), filters={}, page=page)
        return render_template("library/index.html", listing=listing, can_add=can_add)
    key, unread, part = pages.listing_part(filters, page, viewer_id(user))
    # The part's key stands for the part: a page already kept is filled without looking the part up.
    return render_page("library/index.html", (key, can_add), unread=unread, drawn=lambda: {"listing": part()},
                       can_add=can_add)


def _item_or_404(slug) -> LibraryItem:
    item = found(queries.item_by_slug(slug))
    require(item.can_view(current_user))
    return item


@light_viewer
@view
def show(slug):
    user = current_user._get_current_object()  # one proxy lookup for the view
    head = found(queries.item_head(slug, viewer_id(user)))
    may_manage = can_manage_at(user, head.locality_id)
    require(head.status == "published" or may_manage)  # LibraryItem.can_view, from the row
    lessons = queries.lessons_using(slug, user) if head.used else []
    context = {"title": head.title, "downloads": head.downloads, "lessons": lessons}
    if may_manage:  # the librarian's tools: the ORM item and a form, drawn per request
        managed = db.session.get(LibraryItem, head.id)
        return render_template("library/item.html", **context, item_part=pages.item_part(head), item=managed,
                               archive_form=ArchiveForm())
    # The part's key stands for the part: a page already kept is filled without looking the part up.
    key = (pages.item_key(head), head.downloads,
           tuple((row.Course.slug, row.Course.title, row.lesson_id, row.lesson_title) for row in lessons))
    return render_page("library/item.html", key, unread=head.unread, drawn=lambda: {"item_part": pages.item_part(head)},
                       **context)


@view
def download(slug):
    item = _item_or_404(slug)
    main = item.current_file()
    if main is None and item.kind == "link" and item.url:
        operations.count_download(item.id)
        return redirect(item.url)
    found(main)
    operations.count_download(item.id)
    return send_stored(main.key, download_name=main.filename)


@view
def captions(slug):
    item = _item_or_404(slug)
    track = found(item.current_file("captions"))
    response = send_stored(track.key, download_name=track.filename)
    response.headers["Content-Type"] = "text/vtt; charset=utf-8"
    return response


@view
@login_required
def old_version(slug, file_id):
    item = _item_or_404(slug)
    require(item.can_manage(current_user))
    file = get_or_404(LibraryFile, file_id, item_id=item.id)
    return send_stored(file.key, download_name=file.filename)


def _locality_choices(form: ItemForm):
    from lms.localities.queries import home_communes

    form.locality_id.choices = [("", _("Province-wide"))] + [(str(c.id), c.name) for c in home_communes()]


def _fields(form: ItemForm) -> dict:
    return {"title": form.title.data, "kind": form.kind.data, "summary": form.summary.data,
            "body_md": form.body_md.data, "url": form.url.data, "topic": form.topic.data,
            "audience": form.audience.data, "agency": form.agency.data, "licence": form.licence.data,
            "published_on": form.published_on.data, "version": form.version.data, "status": form.status.data,
            "locality_id": text_id(form.locality_id.data)}


def _save(form: ItemForm, item: LibraryItem) -> bool:
    """Apply the form and any uploaded files; False (with the message on the form) when input is bad."""
    fields = _fields(form)
    with db.session.no_autoflush:  # a new item is still half-made (no title yet): reads must not flush it
        locality = db.session.get(Locality, fields["locality_id"]) if fields["locality_id"] else None
        may_add = can_librarian(current_user, locality)
    if not may_add:
        form.locality_id.errors.append(_("You may only add material for the localities you look after."))
        return False
    if fields["kind"] == "link" and not fields["url"]:
        form.url.errors.append(_("An external link needs its address."))
        return False
    operations.apply_fields(item, fields)
    operations.set_collections(item, (form.collections.data or "").split(";"))
    for field, role in ((form.file, "main"), (form.captions, "captions")):
        upload = field.data
        if upload and getattr(upload, "filename", ""):
            try:
                operations.attach_file(item, upload.filename, upload.read(), role=role, user=current_user)
            except operations.LibraryError as error:
                field.errors.append(str(error))
                return False
    if fields["kind"] in ("document", "video", "audio") and item.current_file() is None:
        form.file.errors.append(_("Choose the file to upload."))
        return False
    return True


def _item_form(item: LibraryItem | None):
    """The add and edit pages: one form, saved into a new item or the given one."""
    form = ItemForm(obj=item) if item is not None and request.method == "GET" else ItemForm()
    _locality_choices(form)
    if item is not None and request.method == "GET":
        form.collections.data = "; ".join(c.title for c in item.collections)
        form.locality_id.data = str(item.locality_id or "")
    if form.validate_on_submit():
        target = item or LibraryItem(slug=operations.unique_slug(form.title.data), kind=form.kind.data, title="")
        if item is None:
            db.session.add(target)
        if _save(form, target):
            flash(_("The item was saved."), "success")
            return redirect(url_for("library.show", slug=target.slug), 303)
        discard()  # the half-made change goes before the form is shown again
    return render_template("library/form.html", form=form, item=item), 400 if form.is_submitted() else 200


@view
@login_required
def new():
    require(is_librarian(current_user))
    return _item_form(None)


@view
@login_required
def edit(slug):
    item = found(queries.item_by_slug(slug))
    require(item.can_manage(current_user))
    return _item_form(item)


@view
@login_required
def archive(slug):
    item = found(queries.item_by_slug(slug))
    require(item.can_manage(current_user))
    if ArchiveForm().validate_on_submit():
        operations.archive(item)
        flash(_("The item was archived: it no longer appears in the library or in search."), "info")
    return redirect(url_for("library.show", slug=item.slug), 303)
