from flask import jsonify, request

from lms.core.lifecycle import view
from lms.localities import queries


@view
def search():
    """Commune picker: JSON for the script that enhances the registration form."""
    query = request.args.get("q", "")[:80]
    results = queries.search_communes(query) if len(query.strip()) >= 2 else []
    return jsonify([{"id": unit.id, "label": unit.label, "former": former} for unit, former in results])
