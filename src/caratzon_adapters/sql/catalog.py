"""The catalog's read side (:class:`caratzon_core.ports.CatalogReader`) in SQL.

Searches read ``catalog_entries``: one row per published design holding every filter,
sort key and facet dimension (metals and gemstone types as bit masks) and the search
text, kept by the repositories in the writing transaction; the wide ``designs`` rows
are read only for the page found. One search is a fixed number of
statements whatever the page size:

1. the page: matching entries in sort order after the cursor, ``limit + 1`` of them
   (the extra row only says whether there is a next page), joined to their designs and
   designers' names;
2. the cover image of each design on the page (one ``IN`` query);
3. the facet counts: the matches that can count towards any facet, gathered once in
   a CTE and grouped by category, by metal mask and by gemstone mask (``UNION ALL``);
   the masks' bits are counted out here. Without text, designer, tags or price the
   matches are the rows of ``catalog_facet_counts`` (designs per combination, kept by
   the repositories) rather than every published design.

Text search:

* the user's text is reduced to words here (runs of letters and digits; English stop
  words dropped, as PostgreSQL's ``english`` configuration drops them) and every word
  must begin a word of the design's text, after stemming (``ring`` finds "rings",
  ``vint`` finds "vintage"), as the in-memory fake's rule has it. Only those words
  reach the database, each quoted as a prefix term (``"ring"*`` in FTS5,
  ``'ring':*`` for ``to_tsquery``): a word is letters and digits only, so nothing a
  user types (``OR``, ``NEAR(``, ``*``, quotes, ``;``) is ever read as query syntax;
* SQLite: FTS5 over ``catalog_entries.search_text`` with the Porter stemmer, written
  ``seq IN (SELECT rowid FROM catalog_fts WHERE catalog_fts MATCH ?)``, and the page
  walks the sort's index (``INDEXED BY``), probing the matched set, until it has a
  page: a cost bounded by the index range however common the words are. (The
  planner's join form, driven by the matches, is several times slower for common
  words.) Facets are driven by the matches instead (``NOT INDEXED``: rowid lookups);
* PostgreSQL: a stored generated ``search_vector`` with a GIN index; the planner
  chooses between the GIN bitmap and the sort index. Searches run with
  ``plan_cache_mode = force_custom_plan`` (``SET LOCAL``): psycopg prepares a statement
  from its fifth execution, and a generic plan cannot see how common the words are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Connection,
    FromClause,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    cast,
    column,
    false,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    table,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import Alias

from caratzon_adapters.sql import mapping
from caratzon_adapters.sql.tables import (
    GEMSTONE_BITS,
    METAL_BITS,
    assets,
    catalog_entries,
    catalog_facet_counts,
    design_tags,
    designs,
    users,
)
from caratzon_core.catalog import CatalogItem, CatalogPage, CatalogQuery, Sort, card_blob, encode_cursor
from caratzon_core.designs import AssetKind, Visibility

# PostgreSQL 15's ``english.stop`` (the Snowball list): the same words are ignored on
# SQLite so both databases agree on what "the ring" finds.
ENGLISH_STOP_WORDS = frozenset(
    """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her
    hers herself it its itself they them their theirs themselves what which who whom this that these those
    am is are was were be been being have has had having do does did doing a an the and but if or because
    as until while of at by for with about against between into through during before after above below to
    from up down in out on off over under again further then once here there when where why how all any
    both each few more most other some such no nor not only own same so than too very s t can will just
    don should now
    """.split()  # noqa: SIM905 (a list literal of 127 strings is harder to check against the file)
)
MAX_TERMS = 16
_WORD = re.compile(r"[^\W_]+")  # runs of letters and digits: what both tokenizers call a word

FACETS = ("category", "metal", "gemstone")
_METAL_OF_BIT = {bit: code for code, bit in METAL_BITS.items()}
_GEMSTONE_OF_BIT = {bit: code for code, bit in GEMSTONE_BITS.items()}

# The FTS5 table is virtual: declared here for queries only, never in the metadata.
catalog_fts = table("catalog_fts", column("rowid"), column("catalog_fts"))
ENGLISH: ColumnElement[Any] = literal_column("'english'::regconfig")

_DESIGN_COLUMNS = list(designs.c)


def search_terms(text: str | None) -> list[str]:
    """The words of a search, lower-cased, without stop words or repeats."""
    terms: list[str] = []
    for word in _WORD.findall(text or ""):
        lowered = word.lower()
        if lowered not in ENGLISH_STOP_WORDS and lowered not in terms:
            terms.append(lowered)
    return terms[:MAX_TERMS]


def fts5_query(terms: Sequence[str]) -> str:
    """Every term a quoted prefix string, all required. A term is letters and digits
    only (see :func:`search_terms`), so it cannot close its quotes."""
    return " ".join(f'"{term}"*' for term in terms)


def tsquery(terms: Sequence[str]) -> str:
    """The same for PostgreSQL's ``to_tsquery``: quoted prefix lexemes joined by AND."""
    return " & ".join(f"'{term}':*" for term in terms)


# -- SQLite access-path hints --------------------------------------------------------


NOT_INDEXED = "catalog_by_rowid"


class CatalogAccess(Alias):
    """``catalog_entries`` under an alias that names the access path SQLite must use:
    ``INDEXED BY <alias>`` (the alias is the index's name) or, for
    :data:`NOT_INDEXED`, ``NOT INDEXED`` (rowid lookups only). Other databases see a
    plain alias. The alias name is part of SQLAlchemy's cache key, so each path is
    its own cached statement."""

    inherit_cache = True


@compiles(CatalogAccess)
def _plain_alias(element: CatalogAccess, compiler: SQLCompiler, **kw: Any) -> str:
    rendered: str = compiler.visit_alias(element, **kw)  # type: ignore[no-untyped-call]
    return rendered


@compiles(CatalogAccess, "sqlite")
def _sqlite_access_path(element: CatalogAccess, compiler: SQLCompiler, **kw: Any) -> str:
    rendered: str = compiler.visit_alias(element, **kw)  # type: ignore[no-untyped-call]
    if kw.get("asfrom"):
        name = str(element.name)
        rendered += " NOT INDEXED" if name == NOT_INDEXED else f" INDEXED BY {name}"
    return rendered


def _catalog_via(path: str) -> FromClause:
    return CatalogAccess._construct(catalog_entries, name=path)


def _index_name(*columns: str) -> str:
    return "ix_catalog_entries_" + "_".join(columns)


_SORT_KEYS = {Sort.NEWEST: "published_at", Sort.MOST_VIEWED: "views", Sort.MOST_SAVED: "saves"}


# -- statements: built once per query shape, values bound at execution ----------------


@dataclass(frozen=True)
class Shape:
    """What a query's statements depend on, values aside. ``metal``/``gemstone``: None
    (no filter), False (a code no design can have), True (a bit to test)."""

    dialect: str
    sort: Sort
    text: bool
    category: bool
    metal: bool | None
    gemstone: bool | None
    designer: bool
    tags: int
    price_min: bool
    price_max: bool
    priced_in: bool  # a price bound with a currency to compare in (without one, nothing matches)
    after: str | None  # None, "key", or "unpriced" (a price sort's cursor inside the unpriced tail)


def shape_and_values(dialect: str, query: CatalogQuery) -> tuple[Shape, dict[str, Any]]:
    terms = search_terms(query.text)
    values: dict[str, Any] = {"page_size": query.limit + 1}
    if terms:
        values["fts" if dialect == "sqlite" else "tsq"] = fts5_query(terms) if dialect == "sqlite" else tsquery(terms)
    if query.category is not None:
        values["category"] = query.category.value
    metal_bit, gem_bit = _bit(query.metal, METAL_BITS), _bit(query.gemstone, GEMSTONE_BITS)
    if metal_bit:
        values["metal_bit"] = metal_bit
    if gem_bit:
        values["gem_bit"] = gem_bit
    if query.designer_id is not None:
        values["designer_id"] = query.designer_id
    tags = list(dict.fromkeys(query.tags))
    values.update({f"tag_{i}": tag for i, tag in enumerate(tags)})
    priced = query.price_min_minor is not None or query.price_max_minor is not None
    if priced and query.currency is not None:
        values["currency"] = query.currency
        if query.price_min_minor is not None:
            values["price_min"] = query.price_min_minor
        if query.price_max_minor is not None:
            values["price_max"] = query.price_max_minor
    after: str | None = None
    if query.after is not None:
        key, values["after_id"] = query.after[0], str(query.after[1])
        if key is None:
            after = "unpriced"
        else:
            after = "key"
            values["after_key"] = datetime.fromisoformat(str(key)) if query.sort is Sort.NEWEST else key
    shape = Shape(
        dialect=dialect,
        sort=query.sort,
        text=bool(terms),
        category=query.category is not None,
        metal=None if metal_bit is None else bool(metal_bit),
        gemstone=None if gem_bit is None else bool(gem_bit),
        designer=query.designer_id is not None,
        tags=len(tags),
        price_min=query.price_min_minor is not None,
        price_max=query.price_max_minor is not None,
        priced_in=query.currency is not None,
        after=after,
    )
    return shape, values


@lru_cache(maxsize=512)
def page_statement_for(shape: Shape) -> Select[Any]:
    """The page: the sort's ``limit + 1`` first entries after the cursor, then their
    designs and designers' names."""
    c = _page_source(shape)
    order, after = _order(c, shape)
    page = (
        select(c.c.design_id, c.c.views, c.c.saves, c.c.published_at, c.c.price_minor)
        .where(*_matches(c, shape, skip=()), *after)
        .order_by(*order)
        .limit(bindparam("page_size", type_=Integer))
        .subquery("page")
    )
    outer_order, _ = _order(page, replace(shape, after=None))
    return (
        select(*_DESIGN_COLUMNS, page.c.views, page.c.saves, users.c.name.label("designer_name"))
        .select_from(
            page.join(designs, designs.c.id == page.c.design_id).join(users, users.c.id == designs.c.designer_id)
        )
        .order_by(*outer_order)
    )


def _page_source(shape: Shape) -> FromClause:
    """SQLite: with text, walk the sort's index and probe the matched set (see the
    module notes); a designer's own listing or a price sort is left to the planner."""
    key = _SORT_KEYS.get(shape.sort)
    if shape.dialect != "sqlite" or not shape.text or key is None or shape.designer:
        return catalog_entries
    leading = ("category",) if shape.category else ()
    return _catalog_via(_index_name(*leading, key, "design_id"))


@lru_cache(maxsize=512)
def facet_statement_for(shape: Shape) -> CompoundSelect[Any]:
    """One statement: the entries matching the text and the non-facet filters that pass
    at least two of the three facet filters (a row failing two counts nowhere) are
    gathered once, in a CTE, then grouped three ways: by category (metal and gemstone
    filters applied), by metal mask (category and gemstone) and by gemstone mask
    (category and metal). The masks' bits are counted out in Python: a few hundred
    groups at most."""
    c: FromClause
    if not (shape.text or shape.designer or shape.tags or shape.price_min or shape.price_max):
        # only facet filters: add up the kept counts per combination
        c = catalog_facet_counts
        designs_in_row: ColumnElement[Any] = c.c.designs
    else:
        c = _catalog_via(NOT_INDEXED) if shape.dialect == "sqlite" and shape.text else catalog_entries
        designs_in_row = literal(1, Integer)
    category_ok, metal_ok, gem_ok = _facet_conditions(c, shape)
    counts_somewhere = or_(and_(metal_ok, gem_ok), and_(category_ok, gem_ok), and_(category_ok, metal_ok))
    matched = (
        select(c.c.category, c.c.metal_mask, c.c.gem_mask, designs_in_row.label("n"))
        .where(*_matches(c, shape, skip=FACETS), counts_somewhere)
        .cte("matched")
    )
    category_ok, metal_ok, gem_ok = _facet_conditions(matched, shape)
    no_text, no_mask, n = cast(null(), String), cast(null(), Integer), func.sum(matched.c.n)
    by_category = (
        select(literal("category", String), matched.c.category, no_mask, n)
        .where(metal_ok, gem_ok)
        .group_by(matched.c.category)
    )
    by_metal = (
        select(literal("metal", String), no_text, matched.c.metal_mask, n)
        .where(category_ok, gem_ok)
        .group_by(matched.c.metal_mask)
    )
    by_gemstone = (
        select(literal("gemstone", String), no_text, matched.c.gem_mask, n)
        .where(category_ok, metal_ok)
        .group_by(matched.c.gem_mask)
    )
    return union_all(by_category, by_metal, by_gemstone)


def _facet_conditions(
    c: FromClause, shape: Shape
) -> tuple[ColumnElement[bool], ColumnElement[bool], ColumnElement[bool]]:
    category_ok = c.c.category == bindparam("category", type_=String) if shape.category else true()
    return category_ok, _has(c.c.metal_mask, shape.metal, "metal_bit"), _has(c.c.gem_mask, shape.gemstone, "gem_bit")


def _matches(c: FromClause, shape: Shape, *, skip: Iterable[str]) -> list[ColumnElement[bool]]:
    """The text and the filters (less those named in ``skip``). Every entry is a
    published design."""
    skipped = set(skip)
    conds: list[ColumnElement[bool]] = []
    if shape.text:
        conds.append(_text_match(c, shape.dialect))
    category_ok, metal_ok, gem_ok = _facet_conditions(c, shape)
    if shape.category and "category" not in skipped:
        conds.append(category_ok)
    if shape.metal is not None and "metal" not in skipped:
        conds.append(metal_ok)
    if shape.gemstone is not None and "gemstone" not in skipped:
        conds.append(gem_ok)
    if shape.designer:
        conds.append(c.c.designer_id == bindparam("designer_id", type_=String))
    t = design_tags
    for i in range(shape.tags):
        tag = bindparam(f"tag_{i}", type_=String)
        conds.append(select(t.c.design_id).where(t.c.design_id == c.c.design_id, t.c.tag == tag).exists())
    if shape.price_min or shape.price_max:
        # A price bound only compares amounts of the query's currency; designs priced
        # in another currency, or not at all, do not match it.
        if not shape.priced_in:
            conds.append(false())
        else:
            conds.append(c.c.price_currency == bindparam("currency", type_=String))
            if shape.price_min:
                conds.append(c.c.price_minor >= bindparam("price_min", type_=BigInteger))
            if shape.price_max:
                conds.append(c.c.price_minor <= bindparam("price_max", type_=BigInteger))
    return conds


def _text_match(c: FromClause, dialect: str) -> ColumnElement[bool]:
    if dialect == "sqlite":
        fts = catalog_fts
        matching = select(fts.c.rowid).where(fts.c.catalog_fts.op("MATCH")(bindparam("fts", type_=String)))
        return c.c.seq.in_(matching)
    vector: ColumnElement[Any] = literal_column(f"{getattr(c, 'name', 'catalog_entries')}.search_vector")
    return vector.op("@@")(func.to_tsquery(ENGLISH, bindparam("tsq", type_=String)))


def _bit(code: str | None, bits: dict[str, int]) -> int | None:
    """The mask bit of a filter value; 0 for a value no design can have."""
    if code is None:
        return None
    return 1 << bits[code] if code in bits else 0


def _has(mask: ColumnElement[int], state: bool | None, name: str) -> ColumnElement[bool]:
    if state is None:
        return true()
    if not state:
        return false()
    return mask.op("&")(bindparam(name, type_=Integer)) != 0


def _codes(mask: int, names: dict[int, str]) -> Iterable[str]:
    bit = 0
    while mask:
        if mask & 1:
            yield names[bit]
        mask >>= 1
        bit += 1


def _order(c: FromClause, shape: Shape) -> tuple[list[Any], list[Any]]:
    """ORDER BY for the sort, and the keyset condition for the rows after the cursor."""
    ident = c.c.design_id
    after_id = bindparam("after_id", type_=String)
    if shape.sort in (Sort.PRICE_ASC, Sort.PRICE_DESC):
        ascending = shape.sort is Sort.PRICE_ASC
        price = c.c.price_minor
        order = [price.asc().nulls_last(), ident.asc()] if ascending else [price.desc().nulls_last(), ident.desc()]
        beyond = ident > after_id if ascending else ident < after_id
        if shape.after == "unpriced":
            return order, [price.is_(None), beyond]
        if shape.after == "key":
            after_key = bindparam("after_key", type_=BigInteger)
            further = price > after_key if ascending else price < after_key
            return order, [or_(further, and_(price == after_key, beyond), price.is_(None))]
        return order, []
    key_column = c.c[_SORT_KEYS[shape.sort]]
    order = [key_column.desc(), ident.desc()]
    if shape.after is None:
        return order, []
    after_key = bindparam("after_key", type_=key_column.type)
    return order, [tuple_(key_column, ident) < tuple_(after_key, after_id)]


def _cursor_key(sort: Sort, row: Any) -> object:
    if sort is Sort.NEWEST:
        published: datetime = mapping.utc(row["published_at"])
        return published.isoformat()
    if sort is Sort.MOST_VIEWED:
        return int(row["views"])
    if sort is Sort.MOST_SAVED:
        return int(row["saves"])
    return None if row["price_minor"] is None else int(row["price_minor"])


# -- the reader ---------------------------------------------------------------------


class SqlCatalogReader:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._dialect = conn.dialect.name

    def search(self, query: CatalogQuery) -> CatalogPage:
        shape, values = shape_and_values(self._dialect, query)
        if self._dialect == "postgresql":
            self._conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
        rows = self._conn.execute(page_statement_for(shape), values).mappings().all()
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        covers = self._covers([r["id"] for r in rows])
        items = tuple(
            CatalogItem(
                design=mapping.design_from_row(r),
                designer_name=r["designer_name"],
                views=int(r["views"]),
                saves=int(r["saves"]),
                thumbnail_asset_id=covers[r["id"]][0] if r["id"] in covers else None,
                thumbnail_key=covers[r["id"]][1] if r["id"] in covers else None,
                thumbnail_content_type=covers[r["id"]][2] if r["id"] in covers else None,
            )
            for r in rows
        )
        next_cursor = None
        if more and rows:
            last = rows[-1]
            next_cursor = encode_cursor(query.sort, _cursor_key(query.sort, last), last["id"])
        return CatalogPage(items=items, next_cursor=next_cursor, facets=self._facets(shape, values))

    def page_statement(self, query: CatalogQuery) -> Select[Any]:
        """The page statement with this query's values bound (to inspect or EXPLAIN)."""
        shape, values = shape_and_values(self._dialect, query)
        return page_statement_for(shape).params(values)

    def facet_statement(self, query: CatalogQuery) -> CompoundSelect[Any]:
        """The facet statement with this query's values bound (to inspect or EXPLAIN)."""
        shape, values = shape_and_values(self._dialect, query)
        return facet_statement_for(shape).params(values)

    def facets(self, query: CatalogQuery) -> dict[str, dict[str, int]]:
        """Counts per category, metal and gemstone over the designs matching the text
        and every filter but the facet's own (so a buyer who picked "ring" still sees
        how many necklaces match)."""
        return self._facets(*shape_and_values(self._dialect, query))

    def _facets(self, shape: Shape, values: dict[str, Any]) -> dict[str, dict[str, int]]:
        result: dict[str, dict[str, int]] = {name: {} for name in FACETS}
        by_metal, by_gemstone = result["metal"], result["gemstone"]
        for facet, category, mask, count in self._conn.execute(facet_statement_for(shape), values):
            if not count:
                continue  # a kept combination no published design has any more
            if facet == "category":
                result["category"][category] = int(count)
            elif facet == "metal":
                for code in _codes(mask, _METAL_OF_BIT):
                    by_metal[code] = by_metal.get(code, 0) + int(count)
            else:
                for code in _codes(mask, _GEMSTONE_OF_BIT):
                    by_gemstone[code] = by_gemstone.get(code, 0) + int(count)
        return result

    def _covers(self, design_ids: list[str]) -> dict[str, tuple[str, str, str]]:
        """The cover of each design: its oldest preview image (created_at, then id),
        as (asset id, blob key to show, its content type)."""
        if not design_ids:
            return {}
        a = assets
        stmt = (
            select(a.c.design_id, a.c.id, a.c.thumbnail_key, a.c.blob_key, a.c.content_type)
            .where(
                a.c.design_id.in_(design_ids),
                a.c.kind == AssetKind.IMAGE.value,
                a.c.visibility == Visibility.PREVIEW.value,
            )
            .order_by(a.c.design_id, a.c.created_at, a.c.id)
        )
        covers: dict[str, tuple[str, str, str]] = {}
        for design_id, asset_id, thumb_key, blob_key, content_type in self._conn.execute(stmt):
            if design_id not in covers:
                covers[design_id] = (asset_id, *card_blob(thumb_key, blob_key, content_type))
        return covers
