"""Docs that state facts about the code are kept true by tests."""

from __future__ import annotations

import re
from pathlib import Path

from caratzon_core.access import policy_matrix_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_access_policy_doc_shows_the_policy_in_force() -> None:
    assert policy_matrix_markdown() in (DOCS / "access-policy.md").read_text()


def test_privacy_conformance_maps_every_promise() -> None:
    """docs/privacy-conformance.md has one row per promise P1..P47 of shared/spec/promises.md."""
    text = (DOCS / "privacy-conformance.md").read_text()
    rows = re.findall(r"^\| (P\d+) \|", text, flags=re.M)
    assert rows == [f"P{i}" for i in range(1, 48)]


# -- the data map (issue #6, part 0) --------------------------------------------------


def test_data_map_doc_is_generated_from_the_map() -> None:
    """docs/data-map.md is exactly what the data map says; regenerate it with
    `python -m caratzon_adapters.sql.datamap > docs/data-map.md`."""
    from caratzon_adapters.sql.datamap import data_map_markdown

    assert (DOCS / "data-map.md").read_text() == data_map_markdown()


def test_retention_doc_shows_the_rules_in_force() -> None:
    """docs/retention.md carries the table `caratzon_core.retention.rules_markdown()` makes."""
    from caratzon_core.retention import rules_markdown

    assert rules_markdown() in (DOCS / "retention.md").read_text()
