"""The two full-text engines behind one interface: `sync(ids)`, `unsync(ids)`, `match(...)`.

Both try, in order, until one gives results: (SQLite) the words as a phrase — Vietnamese meaning
lives in runs of syllables, "dien thoai" is one word — then every word anywhere, then any word. The last
word may be unfinished (prefix match).

PostgreSQL: a tsvector built with `unaccent` (đ→d and every Vietnamese mark) in a GIN index,
ranked with ts_rank_cd (cover density: adjacent words first; title weighted above body) over a
second, small vector of the title and the first 300 characters, kept inline in narrow rows (the
texts are TOASTed: lms.search.models) — ranking every match's whole vector took seconds on
one-syllable queries. Before "any word", pg_trgm's word similarity on titles
forgives a typo. SQLite: an FTS5 table over the folded text, ranked with bm25 (title ×10); kind,
visibility and audience are tokens of its `tags` column, so the filters run inside the full-text
match and ranking never reads rows it will drop.

Counts stop at COUNT_CAP ("1000+ results"): counting every row of a one-syllable query costs more
than the page it serves.
"""

from dataclasses import dataclass

from sqlalchemy import bindparam, text

from lms.extensions import db

PG_VECTOR = ("setweight(to_tsvector('simple', unaccent(title)), 'A') || "
             "setweight(to_tsvector('simple', unaccent(left(body, 400000))), 'B')")
PG_RANK_VECTOR = ("setweight(to_tsvector('simple', unaccent(title)), 'A') || "
                  "setweight(to_tsvector('simple', unaccent(left(body, 300))), 'B')")
COUNT_CAP = 1000


@dataclass
class Filters:
    kind: str | None = None
    audience: str | None = None      # the audience the results must be open to (None: any)


def _strategies(terms: list[str]) -> list[str]:
    return ["phrase", "all", "any"] if len(terms) > 1 else ["all"]


class PostgresBackend:
    name = "postgresql"

    def sync(self, ids: list[int]) -> None:
        if ids:
            db.session.execute(text(f"UPDATE search_documents SET vector = {PG_VECTOR}, rank_vector = {PG_RANK_VECTOR} "
                                    "WHERE id IN :ids")
                               .bindparams(bindparam("ids", expanding=True)), {"ids": list(ids)})

    def unsync(self, ids: list[int]) -> None:
        """The rows themselves are deleted by the caller; the vector goes with them."""

    @staticmethod
    def _where(filters: Filters) -> tuple[str, dict]:
        clauses, params = ["d.visible"], {}
        if filters.audience:
            clauses.append("(d.audiences = '' OR d.audiences LIKE :audience)")
            params["audience"] = f"%|{filters.audience}|%"
        if filters.kind:
            clauses.append("d.kind = :kind")
            params["kind"] = filters.kind
        return " AND " + " AND ".join(clauses), params

    def match(self, terms: list[str], filters: Filters, limit: int, offset: int) -> tuple[list[int], int]:
        where, params = self._where(filters)
        last = terms[-1] + ":*"
        # No phrase step here: ts_rank_cd already ranks adjacent words first, and a phrase query
        # rechecks every candidate's whole (TOASTed) vector.
        for strategy in [s for s in _strategies(terms) if s != "phrase"]:
            joiner = {"all": " & ", "any": " | "}[strategy]
            if strategy == "any":
                typo = self._ranked("CAST(:phrase AS text)", "query <% d.title_folded",
                                    "word_similarity(query, d.title_folded)", where,
                                    dict(params, phrase=" ".join(terms)), limit, offset, threshold=True)
                if typo[1]:
                    return typo
            params["q"] = joiner.join(terms[:-1] + [last])
            found = self._ranked("to_tsquery('simple', unaccent(:q))", "d.vector @@ query",
                                 "ts_rank_cd(d.rank_vector, query)", where, params, limit, offset)
            if found[1]:
                return found
        return [], 0

    def _ranked(self, query_sql, match_sql, rank_sql, where, params, limit, offset, threshold=False):
        if threshold:
            db.session.execute(text("SET LOCAL pg_trgm.word_similarity_threshold = 0.5"))
        base = f"FROM search_documents d, {query_sql} AS query WHERE {match_sql}{where}"
        # One scan for the page and the count: the first COUNT_CAP + 1 matches are ranked (a
        # one-syllable query matching most rows would otherwise rank them all, seconds on a busy
        # machine, for a list nobody reads past page 3) and counted.
        rows = db.session.execute(text(
            f"SELECT id, total FROM (SELECT id, rank, count(*) OVER () AS total FROM "
            f"(SELECT d.id, {rank_sql} AS rank {base} LIMIT {COUNT_CAP + 1}) AS candidates) AS counted "
            "ORDER BY rank DESC, id LIMIT :limit OFFSET :offset"), dict(params, limit=limit, offset=offset)).all()
        if rows:
            return [row.id for row in rows], rows[0].total
        if not offset:
            return [], 0
        total = db.session.execute(text(f"SELECT count(*) FROM (SELECT 1 {base} LIMIT {COUNT_CAP + 1}) AS hits"),
                                   params).scalar()
        return [], total


def sqlite_tags(kind: str, visible: bool, audiences: str) -> str:
    """The filter tokens of one row: kind, visibility, and each audience it is open to ('aall': everyone)."""
    names = [a for a in audiences.split("|") if a]
    return " ".join([f"k{kind}", "v1" if visible else "v0", *([f"a{a}" for a in names] or ["aall"])])


class SqliteBackend:
    name = "sqlite"

    def sync(self, ids: list[int]) -> None:
        if not ids:
            return
        self.unsync(ids)
        rows = db.session.execute(text("SELECT id, title_folded, body_folded, kind, visible, audiences "
                                       "FROM search_documents WHERE id IN :ids")
                                  .bindparams(bindparam("ids", expanding=True)), {"ids": list(ids)}).all()
        db.session.execute(text("INSERT INTO search_fts(rowid, title, body, tags) VALUES (:id, :title, :body, :tags)"),
                           [{"id": r.id, "title": r.title_folded, "body": r.body_folded,
                             "tags": sqlite_tags(r.kind, bool(r.visible), r.audiences)} for r in rows])

    def unsync(self, ids: list[int]) -> None:
        if ids:
            db.session.execute(text("DELETE FROM search_fts WHERE rowid IN :ids")
                               .bindparams(bindparam("ids", expanding=True)), {"ids": list(ids)})

    @staticmethod
    def _filter(filters: Filters) -> str:
        parts = ["tags : v1"]
        if filters.audience:
            parts.append(f"(tags : aall OR tags : a{filters.audience})")
        if filters.kind:
            parts.append(f"tags : k{filters.kind}")
        return " AND ".join(parts)

    def match(self, terms: list[str], filters: Filters, limit: int, offset: int) -> tuple[list[int], int]:
        quoted = [f'"{t}"' for t in terms[:-1]] + [f'"{terms[-1]}"*']
        for strategy in _strategies(terms):
            words = {"phrase": " + ", "all": " AND ", "any": " OR "}[strategy].join(quoted)
            params = {"q": f"{{title body}} : ({words}) AND {self._filter(filters)}"}
            total = db.session.execute(text(f"SELECT count(*) FROM (SELECT 1 FROM search_fts WHERE search_fts MATCH :q "
                                            f"LIMIT {COUNT_CAP + 1})"), params).scalar()
            if total:
                rows = db.session.execute(
                    text("SELECT rowid FROM search_fts WHERE search_fts MATCH :q "
                         "ORDER BY bm25(search_fts, 10.0, 1.0, 0.0), rowid LIMIT :limit OFFSET :offset"),
                    dict(params, limit=limit, offset=offset)).scalars().all()
                return list(rows), total
        return [], 0


def backend():
    return PostgresBackend() if db.session.get_bind().dialect.name == "postgresql" else SqliteBackend()
