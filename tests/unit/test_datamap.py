"""The data map (issue #6, part 0): every column of every table has an entry, every
entry names a real column, every category and retention rule is used and cites the
policy, and the checker really fails when someone adds a column without deciding."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, Text

from caratzon_adapters.sql import datamap
from caratzon_adapters.sql.tables import metadata
from caratzon_core import datamap as dm

POLICY = Path(__file__).resolve().parents[3] / "shared" / "spec" / "privacy-policy.txt"


def _copy_of_schema() -> MetaData:
    copy = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(copy)
    return copy


# -- (a) and (b): the map and the schema agree ----------------------------------------


def test_every_column_of_every_table_has_an_entry() -> None:
    missing = datamap.missing_entries()
    assert missing == [], (
        "Columns with no data-map entry — give each a ColumnRule (category, retention, masking) or a "
        "NotPersonal reason in caratzon_adapters/sql/datamap.py:\n  " + "\n  ".join(missing)
    )


def test_no_entry_names_a_table_or_column_that_does_not_exist() -> None:
    unknown = datamap.unknown_entries()
    assert unknown == [], "Data-map entries for nothing in tables.py:\n  " + "\n  ".join(unknown)


def test_the_map_lists_the_tables_in_the_schema_and_nothing_else() -> None:
    assert set(datamap.DATA_MAP.tables) == set(metadata.tables)


def test_every_masking_fits_its_column() -> None:
    assert datamap.masking_problems() == []
    assert datamap.problems() == []


# -- (d): the checker fails when it should -----------------------------------------


def test_the_checker_reports_a_new_column_and_a_new_table() -> None:
    schema = _copy_of_schema()
    schema.tables["users"].append_column(Column("shoe_size", Integer, nullable=True))
    Table("wishlists", schema,
          Column("id", String(36), primary_key=True),
          Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
          Column("note", Text, nullable=False))

    assert datamap.missing_entries(schema) == ["users.shoe_size", "wishlists.id", "wishlists.user_id",
                                               "wishlists.note"]
    assert any(p.startswith("users.shoe_size: no data-map entry") for p in datamap.problems(schema))
    # ... and is silent on the unchanged copy
    assert datamap.missing_entries(_copy_of_schema()) == []


def test_the_checker_reports_an_entry_for_a_dropped_column() -> None:
    schema = _copy_of_schema()
    users = schema.tables["users"]
    schema.remove(users)
    Table("users", schema, *(Column(c.name, c.type, nullable=c.nullable) for c in users.columns
                             if c.name != "business_address"))

    assert datamap.unknown_entries(schema) == ["users.business_address"]


def test_the_checker_reports_maskings_the_column_cannot_take() -> None:
    entries = {t: dict(cols) for t, cols in datamap.DATA_MAP.tables.items()}
    entries["users"]["name"] = dm.ColumnRule(dm.USER_NAME, dm.ACCOUNT, dm.Masking.NULL_FIELD)  # NOT NULL
    entries["orders"]["quantity"] = dm.ColumnRule(dm.TRANSACTION_ORDER, dm.TRANSACTION, dm.Masking.PSEUDONYMISE)
    broken = dm.DataMap(entries)

    assert datamap.masking_problems(data_map=broken) == [
        "users.name: null_field on a NOT NULL column",
        "orders.quantity: pseudonymise on a Integer column",
    ]


# -- (c): categories and retention rules --------------------------------------------


def test_every_category_is_used() -> None:
    unused = {c.code for c in dm.CATEGORIES} - {c.code for c in datamap.DATA_MAP.categories_used()}
    assert unused == set()


def test_every_retention_rule_is_used() -> None:
    unused = {r.code for r in dm.RETENTION_RULES} - {r.code for r in datamap.DATA_MAP.retentions_used()}
    assert unused == set()


def test_category_codes_are_unique_and_cite_sections_and_promises() -> None:
    codes = [c.code for c in dm.CATEGORIES]
    assert len(codes) == len(set(codes))
    for c in dm.CATEGORIES:
        assert c.description and c.promises, c.code
        assert all(1 <= int(s.strip().split(".")[0]) <= 14 for s in c.section.split(",")), c.code
        assert all(1 <= int(p[1:]) <= 47 for p in c.promises), c.code


def test_every_retention_rule_cites_the_policy_section() -> None:
    codes = [r.code for r in dm.RETENTION_RULES]
    assert len(codes) == len(set(codes))
    for rule in dm.RETENTION_RULES:
        assert 1 <= int(rule.section) <= 14 and rule.policy_text, rule.code
        if rule.personal:
            assert rule.promises and all(1 <= int(p[1:]) <= 47 for p in rule.promises), rule.code
    assert [r.code for r in dm.RETENTION_RULES if r.section == "8"] == [
        "account", "design_asset", "transaction", "analytics", "audit"]


@pytest.mark.skipif(not POLICY.exists(), reason=f"the policy text is not beside the project ({POLICY})")
def test_the_section_8_rules_quote_the_policy() -> None:
    text = re.sub(r"\s+", " ", POLICY.read_text())
    section_8 = text[text.index("8. Data Retention"):text.index("9. Your Rights")]
    for rule in dm.RETENTION_RULES:
        if rule.section == "8":
            assert rule.policy_text in section_8, rule.code
    assert dm.LEGAL.policy_text.split(" (")[0] in text


def test_periods_are_the_policys() -> None:
    assert dm.ACCOUNT.period == dm.Period(months=12) and dm.ACCOUNT.clock is dm.Clock.ACCOUNT_CLOSED
    assert dm.DESIGN_ASSETS.period == dm.Period(days=90) and dm.DESIGN_ASSETS.clock is dm.Clock.DESIGN_REMOVED
    assert "under an active licence agreement" in dm.DESIGN_ASSETS.exceptions
    assert dm.TRANSACTION.period == dm.Period(months=84)
    assert dm.ANALYTICS.period == dm.Period(months=24) and dm.ANALYTICS.disposal is dm.Disposal.AGGREGATE
    assert dm.AUDIT.period == dm.Period(months=36) and dm.AUDIT.disposal is dm.Disposal.PRUNE
    assert dm.LEGAL.period is None and dm.NONE.period is None
    assert [r.describe().split(" after")[0] for r in dm.RETENTION_RULES[:5]] == [
        "12 months", "90 days", "7 years", "24 months", "3 years"]


# -- the vocabulary refuses contradictions --------------------------------------------


def test_a_rule_refuses_a_masking_its_retention_contradicts() -> None:
    with pytest.raises(ValueError, match="contradicts the 'audit' retention rule"):
        dm.ColumnRule(dm.AUDIT_ENTRY, dm.AUDIT, dm.Masking.DELETE_ROW)  # the hash chain is never rewritten
    with pytest.raises(ValueError, match="contradicts the 'analytics'"):
        dm.ColumnRule(dm.ANALYTICS_EVENT, dm.ANALYTICS, dm.Masking.KEEP)  # erased events are deleted
    with pytest.raises(ValueError, match="contradicts the 'account'"):
        dm.ColumnRule(dm.USER_EMAIL, dm.ACCOUNT, dm.Masking.KEEP)  # account data is never simply kept
    with pytest.raises(ValueError, match="needs a retention rule of section 8"):
        dm.ColumnRule(dm.USER_EMAIL, dm.NONE, dm.Masking.KEEP)


def test_not_personal_needs_a_one_line_reason() -> None:
    with pytest.raises(ValueError):
        dm.NotPersonal("")
    with pytest.raises(ValueError):
        dm.NotPersonal("two\nlines")
    assert dm.NotPersonal("identifier").retention is dm.NONE


def test_category_codes_are_dotted_and_promises_are_ids() -> None:
    with pytest.raises(ValueError):
        dm.Category("Email", "x", "3.1", ("P1",))
    with pytest.raises(ValueError):
        dm.Category("user.email", "x", "3.1", ("1",))


# -- what export, erasure and retention will read ---------------------------------------


def test_lookups() -> None:
    email = datamap.rule_for("users", "email")
    assert email is not None and email.category is dm.USER_EMAIL and email.retention is dm.ACCOUNT
    assert datamap.rule_for("design_stats", "views") is None  # marked not personal
    with pytest.raises(KeyError, match=r"nope\.nothing is not in the data map"):
        datamap.rule_for("nope", "nothing")
    assert "brief_json" in datamap.personal_columns("orders")
    assert "id" not in datamap.personal_columns("orders")
    assert datamap.personal_columns("price_tables") == ()
    assert ("users", "email") in datamap.columns_in(dm.USER_EMAIL)
    assert ("outbox", "to_email") in datamap.columns_in(dm.USER_EMAIL)


def test_every_column_that_points_at_a_user_is_a_user_identifier() -> None:
    """A foreign key to users.id is how a person is found: it must be user.identifier."""
    refs = set(datamap.user_references())
    pointing = {(t.name, c.name) for t in metadata.tables.values() for c in t.columns
                if any(fk.column.table.name == "users" for fk in c.foreign_keys)}
    assert pointing - refs == set()
    # and the ones without a foreign key
    assert {("audit_log", "actor"), ("audit_log", "subject"), ("ledger_lines", "account"),
            ("manufacturers", "vetted_by"), ("catalog_entries", "designer_id")} <= refs


def test_the_policys_examples_are_mapped_as_decided() -> None:
    def rule(table: str, column: str) -> dm.ColumnRule:
        found = datamap.rule_for(table, column)
        assert found is not None, f"{table}.{column} must be personal"
        return found

    assert rule("messages", "body").masking is dm.Masking.REDACT
    assert rule("orders", "brief_json").category is dm.TRANSACTION_ORDER  # engraving text is personal
    assert rule("orders", "brief_json").retention is dm.TRANSACTION
    assert rule("orders", "buyer_id").masking is dm.Masking.PSEUDONYMISE
    assert rule("ledger_lines", "account").retention is dm.TRANSACTION
    assert rule("ledger_lines", "account").masking is dm.Masking.PSEUDONYMISE
    assert rule("engagement_events", "visitor_id").retention is dm.ANALYTICS
    assert rule("engagement_events", "user_id").masking is dm.Masking.DELETE_ROW
    assert rule("consents", "user_agent").category is dm.DEVICE_BROWSER
    assert {m for _, m in ((c, rule("audit_log", c).masking) for c in datamap.personal_columns("audit_log"))} == {
        dm.Masking.KEEP}
    assert rule("assets", "blob_key").retention is dm.DESIGN_ASSETS
