from flask import render_template, request
from flask_login import current_user

from lms.core.inputs import page_number
from lms.core.lifecycle import view
from lms.core.permissions import can
from lms.search import queries


@view
def search():
    query = request.args.get("q", "").strip()[:200]
    results = queries.search(query, current_user, kind=request.args.get("kind") or None,
                             audience=request.args.get("audience") or None,
                             page=page_number())
    can_choose_audience = can("administer")
    return render_template("search/results.html", results=results, can_choose_audience=can_choose_audience,
                           audiences=queries.AUDIENCES)
