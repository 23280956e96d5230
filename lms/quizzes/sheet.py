"""The question sheet of the attempt page: each question's fields rendered once and reused (issue 17 item 2).

At the start of an exam every learner opens the same questions, unanswered: the same HTML for everyone
who sees the same question with the same option order, number and language. A question's fieldset with
no answer, no version and no check result is kept per everything it is drawn from (the key holds the
question's text and options themselves, not an id a writer might forget to change), so an edited
question is a new key and nothing is invalidated. A question that carries an answer, a version or a
check result is rendered each time, as before.
"""

from flask import current_app
from flask_babel import get_locale
from markupsafe import Markup

from lms.core.page_cache import app_cache


def _fields_macro():
    return current_app.jinja_env.get_template("quizzes/_inputs.html").module.question_fields


def _parts(items) -> tuple:
    return tuple((item["id"], item["html"]) for item in items)


def _key(view, disabled: bool, locale: str) -> tuple:
    q = view["question"]
    return (locale, q.id, q.type, q.text_html, view["number"], _parts(view["options"]), _parts(view["choices"]),
            disabled, view["checkable"])


def render_sheet(views: list[dict], editable: set) -> Markup:
    """The fields of every question in `views`, as the page's loop over question_fields rendered them."""
    fields = _fields_macro()
    if current_app.jinja_env.auto_reload:  # templates being edited: no copies
        return Markup("").join(fields(view, disabled=view["question"].id not in editable) for view in views)
    cache, locale, out = app_cache("lms_question_sheet"), str(get_locale()), []
    for view in views:
        disabled = view["question"].id not in editable
        if view["response"] is not None or view["version"] is not None or view["checked"] is not None:
            out.append(fields(view, disabled=disabled))
            continue
        key = _key(view, disabled, locale)
        part = cache.get(key)
        if part is None:
            part = fields(view, disabled=disabled)  # Markup: the template autoescaped it
            cache.put(key, part)
        out.append(part)
    return Markup("").join(out)
