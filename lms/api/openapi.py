"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json."""

_METRICS = {
    "enrolled": "integer", "active_30_days": "integer", "completed": "integer", "completion_percent": "integer",
    "attempts": "integer", "passed": "integer", "pass_percent": "integer", "certificates": "integer",
    "program_certificates": "integer", "overdue_required": "integer", "training_hours": "number",
}


def _error(description):
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _query(name, description, schema):
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def spec() -> dict:
    metrics = {name: {"type": kind} for name, kind in _METRICS.items()}
    metrics["average_score"] = {"type": ["number", "null"]}
    month = {"type": "string", "pattern": r"^\d{4}-\d{2}$", "examples": ["2025-07"]}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Smart City Learning — reports API",
            "version": "1.0.0",
            "description": "Coverage per locality for the provincial operations centre. Every call needs "
                           "`Authorization: Bearer <token>`; a token sees one locality subtree (as a manager does). "
                           "Figures come from a summary refreshed every few minutes (`refreshed_at`).",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/reports/scope": {"get": {
                "operationId": "getScope", "summary": "The locality this token may see",
                "responses": {"200": {"description": "The scope", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["scope"],
                    "properties": {"scope": {"$ref": "#/components/schemas/Locality"},
                                   "agency": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Agency"}]}}}}}},
                    "401": _error("Missing, unknown or revoked token")},
            }},
            "/reports/localities/{locality_id}": {"get": {
                "operationId": "getCoverage", "summary": "Coverage of a locality, one row per child unit",
                "parameters": [
                    {"name": "locality_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                    _query("mode", "current: old units rolled up to their successors; recorded: as recorded",
                           {"type": "string", "enum": ["current", "recorded"], "default": "current"}),
                    _query("course", "Course id", {"type": "integer"}),
                    _query("program", "Program slug (an old course `program` value still works)", {"type": "string"}),
                    _query("agency", "Agency id: its enrolments and those of every agency under it "
                                     "(a token narrowed to an agency may only ask for that agency's subtree)",
                           {"type": "integer"}),
                    _query("audience", "Learners' audience", {"type": "string", "enum": ["citizen", "official", "cio"]}),
                    _query("from", "First enrolment month", month),
                    _query("to", "Last enrolment month", month),
                ],
                "responses": {
                    "200": {"description": "Coverage", "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/Coverage"}}}},
                    "400": _error("A filter value is not valid"),
                    "401": _error("Missing, unknown or revoked token"),
                    "403": _error("The locality or agency is outside the token's scope"),
                    "404": _error("No such locality"),
                },
            }},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "Created with `flask --app app api create-token`."}},
            "schemas": {
                "Error": {"type": "object", "required": ["error", "message"],
                          "properties": {"error": {"type": "integer"}, "message": {"type": "string"}}},
                "Locality": {"type": "object", "required": ["id", "scheme", "level", "code", "name", "is_current"],
                             "properties": {"id": {"type": "integer"}, "scheme": {"type": "string"},
                                            "level": {"type": "string", "enum": ["province", "district", "commune"]},
                                            "code": {"type": "string"}, "name": {"type": "string"},
                                            "is_current": {"type": "boolean"}}},
                "Agency": {"type": "object", "required": ["id", "code", "name"],
                           "properties": {"id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"}}},
                "Metrics": {"type": "object", "required": sorted(metrics), "properties": metrics},
                "Row": {"allOf": [{"$ref": "#/components/schemas/Metrics"}, {
                    "type": "object", "required": ["locality"],
                    "properties": {"locality": {"$ref": "#/components/schemas/Locality"}}}]},
                "Target": {"type": "object", "properties": {
                    "audience": {"type": "string", "enum": ["citizen", "official"]}, "population": {"type": "integer"},
                    "target_percent": {"type": "integer"}, "target_count": {"type": "integer"},
                    "counts": {"type": "string", "enum": ["all", "assisted", "self"],
                               "description": "Whom the target counts: everyone, assisted residents or self-learners"},
                    "due_on": {"type": ["string", "null"], "format": "date"}, "reached": {"type": "integer"},
                    "reached_percent_of_population": {"type": "integer"}, "progress_percent": {"type": "integer"},
                    "completed_target": {"type": ["integer", "null"]}, "completed": {"type": ["integer", "null"]},
                    "split": {"type": ["object", "null"], "description": "Residents reached / completed, assisted and self"}}},
                "Coverage": {"type": "object", "required": ["locality", "mode", "rows", "total", "targets"], "properties": {
                    "locality": {"$ref": "#/components/schemas/Locality"},
                    "mode": {"type": "string", "enum": ["current", "recorded"]},
                    "filters": {"type": "object"},
                    "refreshed_at": {"type": ["string", "null"], "format": "date-time"},
                    "rows": {"type": "array", "items": {"$ref": "#/components/schemas/Row"}},
                    "total": {"$ref": "#/components/schemas/Metrics"},
                    "targets": {"type": "array", "items": {"$ref": "#/components/schemas/Target"}}}},
            },
        },
    }
