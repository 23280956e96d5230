"""The two full-text engines behind one interface: `sync(ids)`, `unsync(ids)`, `match(...)`.

PostgreSQL: a tsvector built with `unaccent` (đ→d and every Vietnamese mark) in a GIN index,
ranked with ts_rank_cd (title weighted above body); when every word must match and nothing does,
pg_trgm's word similarity on titles forgives a typo. SQLite: an FTS5 table over the folded text,
ranked with bm25 (title ×10). Both then try "any word" before giving up.
"""

from dataclasses import dataclass

from sqlalchemy import bindparam, text

from lms.extensions import db

PG_VECTOR = ("setweight(to_tsvector('simple', unaccent(title)), 'A') || "
             "setweight(to_tsvector('simple', unaccent(left(body, 400000))), 'B')")


@dataclass
class Filters:
    kind: str | None = None
    audience: str | None = None      # the audience the results must be open to (None: any)
    everything: bool = False         # admins: hidden rows too


def _where(filters: Filters, alias: str = "d") -> tuple[str, dict]:
    clauses, params = [], {}
    if not filters.everything:
        clauses.append(f"{alias}.visible = :visible")
        params["visible"] = True
    if filters.audience:
        clauses.append(f"({alias}.audiences = '' OR {alias}.audiences LIKE :audience)")
        params["audience"] = f"%|{filters.audience}|%"
    if filters.kind:
        clauses.append(f"{alias}.kind = :kind")
        params["kind"] = filters.kind
    return (" AND " + " AND ".join(clauses)) if clauses else "", params


class PostgresBackend:
    name = "postgresql"

    def sync(self, ids: list[int]) -> None:
        if ids:
            db.session.execute(text(f"UPDATE search_documents SET vector = {PG_VECTOR} WHERE id IN :ids")
                               .bindparams(bindparam("ids", expanding=True)), {"ids": list(ids)})

    def unsync(self, ids: list[int]) -> None:
        """The rows themselves are deleted by the caller; the vector goes with them."""

    def match(self, terms: list[str], filters: Filters, limit: int, offset: int) -> tuple[list[int], int]:
        where, params = _where(filters)
        for joiner in (" & ", " | "):
            params["q"] = joiner.join(terms[:-1] + [terms[-1] + ":*"])
            found = self._ranked("to_tsquery('simple', unaccent(:q))", "d.vector @@ query",
                                 "ts_rank_cd(d.vector, query)", where, params, limit, offset)
            if found[1] or joiner == " | ":
                return found
            typo = self._ranked("CAST(:phrase AS text)", "query <% d.title_folded",
                                "word_similarity(query, d.title_folded)", where,
                                dict(params, phrase=" ".join(terms)), limit, offset, threshold=True)
            if typo[1]:
                return typo
        return [], 0

    def _ranked(self, query_sql, match_sql, rank_sql, where, params, limit, offset, threshold=False):
        if threshold:
            db.session.execute(text("SET LOCAL pg_trgm.word_similarity_threshold = 0.5"))
        base = f"FROM search_documents d, {query_sql} AS query WHERE {match_sql}{where}"
        total = db.session.execute(text(f"SELECT count(*) {base}"), params).scalar()
        if not total:
            return [], 0
        rows = db.session.execute(text(f"SELECT d.id {base} ORDER BY {rank_sql} DESC, d.id LIMIT :limit OFFSET :offset"),
                                  dict(params, limit=limit, offset=offset)).scalars().all()
        return list(rows), total


class SqliteBackend:
    name = "sqlite"

    def sync(self, ids: list[int]) -> None:
        if not ids:
            return
        self.unsync(ids)
        db.session.execute(text("INSERT INTO search_fts(rowid, title, body) SELECT id, title_folded, body_folded "
                                "FROM search_documents WHERE id IN :ids").bindparams(bindparam("ids", expanding=True)),
                           {"ids": list(ids)})

    def unsync(self, ids: list[int]) -> None:
        if ids:
            db.session.execute(text("DELETE FROM search_fts WHERE rowid IN :ids")
                               .bindparams(bindparam("ids", expanding=True)), {"ids": list(ids)})

    def match(self, terms: list[str], filters: Filters, limit: int, offset: int) -> tuple[list[int], int]:
        where, params = _where(filters)
        for joiner in (" ", " OR "):
            params["q"] = joiner.join([f'"{t}"' for t in terms[:-1]] + [f'"{terms[-1]}"*'])
            base = f"FROM search_fts JOIN search_documents d ON d.id = search_fts.rowid WHERE search_fts MATCH :q{where}"
            total = db.session.execute(text(f"SELECT count(*) {base}"), params).scalar()
            if total:
                rows = db.session.execute(
                    text(f"SELECT d.id {base} ORDER BY bm25(search_fts, 10.0, 1.0), d.id LIMIT :limit OFFSET :offset"),
                    dict(params, limit=limit, offset=offset)).scalars().all()
                return list(rows), total
        return [], 0


def backend():
    return PostgresBackend() if db.session.get_bind().dialect.name == "postgresql" else SqliteBackend()
