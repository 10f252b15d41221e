"""/legal/processors and /api/v1/legal/processors: the processors and transfers
register, public, generated from the configuration, the same data in both forms."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient

from caratzon_core.processors import NO_SALE_STATEMENT, NOT_IN_USE

GEMINI_KEY = "AIza-gemini-" + "g" * 24
COLUMNS = ("name", "purpose", "data_categories", "region", "transfer_safeguard", "promise_ids", "status")


class _Rows(HTMLParser):
    """The register table's rows: data-key and the text of each cell."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, list[str]]] = []
        self._in_table = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table" and found.get("id") == "processors":
            self._in_table = True
        elif self._in_table and tag == "tr" and found.get("data-key"):
            self.rows.append((str(found["data-key"]), []))
        elif self._in_table and self.rows and tag in ("th", "td"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_table = False
        elif tag in ("th", "td") and self._cell is not None:
            self.rows[-1][1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def page_rows(client: FlaskClient) -> list[tuple[str, list[str]]]:
    response = client.get("/legal/processors")
    assert response.status_code == 200
    parser = _Rows()
    parser.feed(response.get_data(as_text=True))
    return parser.rows


def as_cells(processor: dict[str, Any]) -> list[str]:
    cells = []
    for column in COLUMNS:
        value = processor[column]
        if column == "data_categories":
            value = ", ".join(value) or "None"
        elif column == "promise_ids":
            value = ", ".join(value)
        cells.append(" ".join(str(value).split()))
    return cells


def test_anonymous_visitors_see_the_register_and_the_footer_links_to_it(client: FlaskClient) -> None:
    response = client.get("/legal/processors")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Processors and international transfers" in html
    assert "standard contractual clauses" in html
    assert "We do not sell your personal data" in html and "advertisers" in html
    assert 'href="/legal/processors"' in client.get("/").get_data(as_text=True)
    assert 'href="/legal/processors"' in client.get("/legal/privacy").get_data(as_text=True)


def test_the_offline_default_lists_only_the_portals_own_server_in_use(client: FlaskClient) -> None:
    rows = dict(page_rows(client))
    running = {key for key, cells in rows.items() if cells[-1] == "in use"}
    assert running == {"local-files", "sqlite", "offline-payments", "offline-ai", "mail-files"}
    for key in ("aws-s3", "postgresql", "stripe", "google-gemini", "smtp"):
        assert rows[key][-1] == NOT_IN_USE
    assert 'id="unlisted"' not in client.get("/legal/processors").get_data(as_text=True)


def test_a_cloud_deployment_lists_s3_and_gemini_in_use_with_their_regions(make_app: Any) -> None:
    app = make_app(blob_store="s3://caratzon-assets", s3_region="ap-east-1", s3_endpoint_url=None,
                   ai="gemini", gemini_api_key=GEMINI_KEY)
    rows = dict(page_rows(app.test_client()))
    assert rows["aws-s3"][-1] == "in use" and rows["aws-s3"][3] == "AWS ap-east-1 (Hong Kong)"
    assert rows["google-gemini"][-1] == "in use" and rows["google-gemini"][3] == "Google Cloud (US)"
    assert rows["local-files"][-1] == NOT_IN_USE and rows["offline-ai"][-1] == NOT_IN_USE
    assert "Standard contractual clauses" in rows["aws-s3"][4]


def test_a_region_the_policy_does_not_name_is_shown_as_such(make_app: Any) -> None:
    client = make_app(blob_store="s3://caratzon-assets", s3_region="eu-west-1").test_client()
    html = client.get("/legal/processors").get_data(as_text=True)
    assert 'id="unlisted"' in html and "Amazon Web Services S3: Ireland" in html
    unlisted = client.get("/api/v1/legal/processors").json["transfers"]["unlisted"]
    assert unlisted == [{"key": "aws-s3", "name": "Amazon Web Services S3", "jurisdictions": ["Ireland"]}]


def test_the_json_form_is_public_and_equals_the_page(client: FlaskClient, make_app: Any) -> None:
    for browser in (client, make_app(blob_store="s3://caratzon-assets", ai="gemini",
                                     gemini_api_key=GEMINI_KEY).test_client()):
        response = browser.get("/api/v1/legal/processors")
        assert response.status_code == 200 and response.mimetype == "application/json"
        document = response.json
        assert document is not None
        assert document["no_sale"]["statement"] == NO_SALE_STATEMENT
        assert [(p["key"], as_cells(p)) for p in document["processors"]] == page_rows(browser)


def test_the_json_form_is_described_in_openapi_as_public(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").json
    assert document is not None
    operation = document["paths"]["/api/v1/legal/processors"]["get"]
    assert operation["security"] == []
    required = operation["responses"]["200"]["content"]["application/json"]["schema"]["required"]
    assert set(required) <= set(client.get("/api/v1/legal/processors").json)  # type: ignore[arg-type]
