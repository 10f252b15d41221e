"""The hand-written migrations build exactly the schema ``tables.py`` declares,
on both databases, and the schema refuses values the domain does not know."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import CheckConstraint, Column, Engine, Integer, MetaData, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from caratzon_adapters.sql import tables
from caratzon_adapters.sql.engine import make_engine
from caratzon_adapters.sql.migrate import current_revision, head_revision, upgrade
from caratzon_core.privacy import INITIAL_POLICY_VERSION

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def empty_engine(request: pytest.FixtureRequest, make_database_url: Callable[..., str]) -> Iterator[Engine]:
    eng = make_engine(make_database_url(request.param, migrated=False))
    try:
        yield eng
    finally:
        eng.dispose()


# Full-text search objects Alembic cannot model, created on purpose by migration 0002:
# SQLite's FTS5 virtual table (and the shadow tables FTS5 keeps), PostgreSQL's
# generated tsvector column (one dialect only) and its GIN index.
FTS5_TABLES = {"catalog_fts", "catalog_fts_data", "catalog_fts_idx", "catalog_fts_docsize", "catalog_fts_config"}


def is_full_text_object(diff: object) -> bool:
    if not isinstance(diff, tuple):
        return False
    kind = diff[0]
    if kind == "remove_table":
        return diff[1].name in FTS5_TABLES
    if kind == "remove_column":
        return (diff[2], diff[3].name) == ("catalog_entries", "search_vector")
    if kind == "remove_index":
        return diff[1].name == "ix_catalog_entries_search_vector"
    return False


def schema_differences(engine: Engine, metadata: MetaData) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return [d for d in compare_metadata(context, metadata) if not is_full_text_object(d)]


def test_upgrade_builds_exactly_the_declared_schema(empty_engine: Engine) -> None:
    assert current_revision(empty_engine) is None
    upgrade(empty_engine)
    assert current_revision(empty_engine) == head_revision() == "0007"
    assert schema_differences(empty_engine, tables.metadata) == []

    # compare_metadata does not look at CHECK constraints: compare their names here, and
    # the quoted values each allows (a migration that forgets an enum value, say a new
    # ledger entry kind, would refuse rows the code writes).
    inspector = inspect(empty_engine)
    quoted = re.compile(r"'([^']*)'")
    for table in tables.metadata.sorted_tables:
        declared = {c.name: c for c in table.constraints if isinstance(c, CheckConstraint)}
        live = {c["name"]: c["sqltext"] for c in inspector.get_check_constraints(table.name)}
        assert set(live) == set(declared), table.name
        for name, constraint in declared.items():
            assert set(quoted.findall(str(live[name]))) == set(quoted.findall(str(constraint.sqltext))), \
                f"{table.name}.{name}"

    upgrade(empty_engine)  # idempotent
    assert current_revision(empty_engine) == "0007"


def test_full_text_objects_exist_on_each_dialect(empty_engine: Engine) -> None:
    """What the comparison above is told to ignore must really be there."""
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            objects = set(conn.exec_driver_sql("SELECT type, name FROM sqlite_master").all())
            assert {("table", t) for t in FTS5_TABLES} <= objects
            assert {("trigger", f"catalog_fts_{op}") for op in ("insert", "delete", "update")} <= objects
        else:
            generated = conn.exec_driver_sql(
                "SELECT is_generated, generation_expression FROM information_schema.columns "
                "WHERE table_name = 'catalog_entries' AND column_name = 'search_vector'"
            ).one()
            assert generated[0] == "ALWAYS" and "strip(to_tsvector('english'" in generated[1]
            indexdef = conn.exec_driver_sql(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_catalog_entries_search_vector'"
            ).scalar_one()
            assert "USING gin (search_vector)" in indexdef


def test_downgrade_to_the_foundation_and_up_again(empty_engine: Engine) -> None:
    from alembic import command

    from caratzon_adapters.sql.migrate import alembic_config

    upgrade(empty_engine)
    with empty_engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    assert current_revision(empty_engine) == "0001"
    assert "designs" not in inspect(empty_engine).get_table_names()
    assert "catalog_fts" not in inspect(empty_engine).get_table_names()
    upgrade(empty_engine)
    assert current_revision(empty_engine) == head_revision()
    assert schema_differences(empty_engine, tables.metadata) == []


def test_the_comparison_does_notice_drift(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    drifted = MetaData(naming_convention=tables.NAMING_CONVENTION)
    for table in tables.metadata.sorted_tables:
        table.to_metadata(drifted)
    drifted.tables["users"].append_column(Column("shoe_size", Integer, nullable=True))
    diffs = schema_differences(empty_engine, drifted)
    assert [d[0] for d in diffs] == ["add_column"]  # type: ignore[index]


def test_first_migration_seeds_the_policy_and_the_chain_head(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        policies = conn.execute(select(tables.policy_versions)).mappings().all()
        head = conn.execute(select(tables.audit_head)).mappings().all()
    assert [dict(p) for p in policies] == [
        {"version": INITIAL_POLICY_VERSION, "effective_date": date(2026, 3, 4), "material": False,
         "text": None, "published_at": None, "published_by": None}
    ]
    assert [dict(h) for h in head] == [{"id": 1, "seq": 0, "hash": "", "signature": ""}]


NOW = datetime(2026, 11, 27, tzinfo=UTC)
GOOD_USER = {
    "id": "u1", "email": "a@example.com", "name": "A", "role": "buyer", "password_hash": "x",
    "language": "en", "status": "active", "business_name": None, "business_address": None,
    "age_confirmed_at": NOW, "created_at": NOW, "updated_at": NOW, "closed_at": None,
}


@pytest.mark.parametrize(
    ("table", "values"),
    [
        (tables.users, {**GOOD_USER, "role": "superuser"}),
        (tables.users, {**GOOD_USER, "status": "deleted"}),
        (tables.users, {**GOOD_USER, "language": "fr"}),
        (tables.users, {**GOOD_USER, "email": "A@example.com"}),
        (tables.login_attempts, {"kind": "cookie", "key": "k", "at": NOW, "success": False}),
        (tables.audit_head, {"id": 2, "seq": 0, "hash": "", "signature": ""}),
        (tables.designer_profiles, {"user_id": "nobody", "biography": "", "brand_description": "",
                                    "credentials": "", "updated_at": None}),
    ],
    ids=["role", "status", "language", "email-case", "throttle-kind", "second-head", "foreign-key"],
)
def test_the_schema_refuses_unknown_values(engine: Engine, table: tables.Table, values: dict[str, object]) -> None:
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(table).values(values))
    with engine.begin() as conn:  # the good row goes in
        conn.execute(insert(tables.users).values(GOOD_USER))


def test_0005_policy_version_columns_go_down_and_up_keeping_the_versions(empty_engine: Engine) -> None:
    """Issue #6 part 5: 0005 adds the text, publication time and publisher of each
    policy version; downgrading drops just those columns (SQLite: ALTER TABLE ...
    DROP COLUMN, never a rebuild of a table others refer to), the rows stay."""
    from alembic import command

    from caratzon_adapters.sql.migrate import alembic_config

    upgrade(empty_engine)
    with empty_engine.begin() as conn:
        conn.execute(insert(tables.policy_versions).values(
            version="2027-01-01", effective_date=date(2027, 1, 1), material=True, text="Full text.\n",
            published_at=NOW, published_by="operator:cli"))
    with empty_engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0004")
    columns = {c["name"] for c in inspect(empty_engine).get_columns("policy_versions")}
    assert columns == {"version", "effective_date", "material"}
    with empty_engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT version FROM policy_versions ORDER BY version").scalars().all()
    assert rows == [INITIAL_POLICY_VERSION, "2027-01-01"]
    upgrade(empty_engine)
    assert schema_differences(empty_engine, tables.metadata) == []
    with empty_engine.connect() as conn:
        got = conn.execute(select(tables.policy_versions.c.version, tables.policy_versions.c.text)
                           .order_by(tables.policy_versions.c.version)).all()
    assert [tuple(r) for r in got] == [(INITIAL_POLICY_VERSION, None), ("2027-01-01", None)]
