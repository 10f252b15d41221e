"""The processors and international-transfers register (policy §6 and §10; P21 to P24, P43):
what it lists for each configuration, and the facts the adapter reads from Config."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from caratzon_adapters.config import Config, ConfigError
from caratzon_adapters.processors import deployment_facts, processors_register
from caratzon_core.processors import (
    ACCOUNT,
    ANALYTICS,
    COMMUNICATIONS,
    DESIGN_ASSETS,
    DEVICE,
    NO_SALE_STATEMENT,
    NO_TRANSFER,
    NOT_IN_USE,
    PAYMENT,
    POLICY_JURISDICTIONS,
    PROFILE,
    SCC_AND_DPA,
    TRANSACTION,
    USAGE,
    DeploymentFacts,
    Processor,
    in_use,
    register,
    register_document,
    unlisted_transfers,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"
SECRET = "k" * 40
DB_PASSWORD = "pg-Pa55word-secret"
SMTP_PASSWORD = "smtp-Pa55word-secret"
GEMINI_KEY = "AIza-gemini-" + "g" * 24
SECTION_3 = {ACCOUNT, PROFILE, DESIGN_ASSETS, TRANSACTION, PAYMENT, COMMUNICATIONS, DEVICE, USAGE, ANALYTICS}
OFFLINE_KEYS = {"local-files", "sqlite", "offline-payments", "offline-ai", "mail-files"}


def config(tmp_path: Path, **env: str) -> Config:
    return Config.from_env({"CARATZON_DATA_DIR": str(tmp_path), "CARATZON_SECRET_KEY": SECRET, **env})


def cloud_env(**extra: str) -> dict[str, str]:
    return {
        "CARATZON_BLOB_STORE": "s3://caratzon-assets/prod",
        "CARATZON_S3_REGION": "eu-west-2",
        "CARATZON_DATABASE_URL": f"postgresql+psycopg://caratzon:{DB_PASSWORD}@db.internal.example:5432/caratzon",
        "CARATZON_SMTP_URL": f"smtp://mailer:{SMTP_PASSWORD}@smtp.mail.example:587?starttls=1",
        "CARATZON_AI": "gemini",
        "CARATZON_GEMINI_API_KEY": GEMINI_KEY,
        **extra,
    }


def by_key(processors: tuple[Processor, ...]) -> dict[str, Processor]:
    return {p.key: p for p in processors}


def keys(processors: tuple[Processor, ...]) -> set[str]:
    return {p.key for p in processors}


# -- the register for each configuration -------------------------------------------------------


def test_offline_defaults_use_only_the_portals_own_server(tmp_path: Path) -> None:
    processors = processors_register(config(tmp_path))
    assert keys(in_use(processors)) == OFFLINE_KEYS
    for p in in_use(processors):
        assert p.transfer_safeguard == NO_TRANSFER and p.jurisdictions == () and p.status == "in use", p.key
    # The cloud processors are listed, honestly marked as not running here.
    for key in ("aws-s3", "postgresql", "stripe", "google-gemini", "smtp"):
        assert by_key(processors)[key].status == NOT_IN_USE
    assert unlisted_transfers(processors) == ()


def test_s3_gemini_postgresql_and_smtp_are_in_use_with_region_and_safeguard(tmp_path: Path) -> None:
    processors = by_key(processors_register(config(tmp_path, **cloud_env())))
    assert {k for k, p in processors.items() if p.in_use} == {
        "aws-s3", "postgresql", "offline-payments", "google-gemini", "smtp"}

    s3 = processors["aws-s3"]
    assert s3.region == "AWS eu-west-2 (London, United Kingdom)"
    assert s3.jurisdictions == ("United Kingdom",)
    assert s3.transfer_safeguard == SCC_AND_DPA
    assert {"P22", "P43"} <= set(s3.promise_ids)

    gemini = processors["google-gemini"]
    assert gemini.region == "Google Cloud (US)" and gemini.jurisdictions == ("United States",)
    assert gemini.transfer_safeguard == SCC_AND_DPA
    assert gemini.data_categories == (COMMUNICATIONS,)  # only message text, for translation (§5)
    assert {"P23", "P43"} <= set(gemini.promise_ids)

    database = processors["postgresql"]
    assert "operator's database server" in database.region and "P22" in database.promise_ids
    assert "standard contractual clauses" in database.transfer_safeguard
    assert "operator's mail relay" in processors["smtp"].region
    assert not processors["local-files"].in_use and not processors["sqlite"].in_use


def test_stripe_in_use_receives_only_payment_and_transaction_data() -> None:
    facts = DeploymentFacts(blob_store="s3", s3_region="us-east-1", payments="stripe", ai="gemini",
                            database="postgresql", mail="smtp")
    processors = by_key(register(facts))
    stripe = processors["stripe"]
    assert stripe.in_use and not processors["offline-payments"].in_use
    assert stripe.region == "Stripe (US/EU)"
    assert stripe.transfer_safeguard == SCC_AND_DPA
    assert set(stripe.data_categories) == {PAYMENT, TRANSACTION}  # P21
    assert {"P21", "P43"} <= set(stripe.promise_ids)
    assert processors["aws-s3"].region == "AWS us-east-1 (N. Virginia, United States)"
    # Section 10 names the United States, not the European Union: the register says so.
    assert [p.key for p in unlisted_transfers(register(facts))] == ["stripe"]
    assert stripe.unlisted_jurisdictions == ("European Union",)


def test_every_processor_names_promises_that_the_conformance_doc_maps() -> None:
    mapped = set(re.findall(r"^\| (P\d+) \|", (DOCS / "privacy-conformance.md").read_text(), flags=re.M))
    for facts in (DeploymentFacts(), DeploymentFacts(blob_store="s3", payments="stripe", ai="gemini",
                                                     database="postgresql", mail="smtp")):
        processors = register(facts)
        assert len(processors) == 10 and len(keys(processors)) == 10
        for p in processors:
            assert p.promise_ids and set(p.promise_ids) <= mapped, p.key
            assert set(p.data_categories) <= SECTION_3, p.key
            assert p.name and p.purpose and p.region and p.transfer_safeguard, p.key
            if p.jurisdictions:  # data leaves the portal's server: a transfer under section 10
                assert "P43" in p.promise_ids and p.transfer_safeguard != NO_TRANSFER, p.key
        # Exactly one alternative of each kind runs.
        assert len(in_use(processors)) == 5


@pytest.mark.parametrize(
    ("region", "unlisted"),
    [("us-west-2", ()), ("ap-east-1", ()), ("cn-north-1", ()), ("eu-west-2", ()),
     ("eu-west-1", ("Ireland",)), ("eu-central-1", ("Germany",)),
     ("xx-nowhere-9", ("AWS region xx-nowhere-9 (unknown to this register)",))],
)
def test_an_s3_region_outside_the_policys_jurisdictions_is_flagged(region: str, unlisted: tuple[str, ...]) -> None:
    processors = register(DeploymentFacts(blob_store="s3", s3_region=region))
    s3 = by_key(processors)["aws-s3"]
    assert s3.unlisted_jurisdictions == unlisted
    assert [p.key for p in unlisted_transfers(processors)] == (["aws-s3"] if unlisted else [])
    assert set(POLICY_JURISDICTIONS) == {"Hong Kong", "China", "United Kingdom", "United States"}


def test_an_unused_processor_is_never_flagged() -> None:
    # eu-west-1 would be flagged, but files stay local here.
    assert unlisted_transfers(register(DeploymentFacts(blob_store="local", s3_region="eu-west-1"))) == ()


def test_custom_endpoints_claim_no_provider_or_place(tmp_path: Path) -> None:
    processors = by_key(processors_register(config(
        tmp_path, CARATZON_BLOB_STORE="s3://bucket-x", CARATZON_S3_ENDPOINT_URL="http://127.0.0.1:9000",
        CARATZON_AI="gemini", CARATZON_GEMINI_API_KEY=GEMINI_KEY,
        CARATZON_GEMINI_BASE_URL="http://127.0.0.1:8089")))
    s3, gemini = processors["aws-s3"], processors["google-gemini"]
    assert s3.in_use and "S3-compatible" in s3.name and "AWS" not in s3.region and s3.jurisdictions == ()
    assert gemini.in_use and "operator's Gemini endpoint" in gemini.region and gemini.jurisdictions == ()


@pytest.mark.parametrize(
    ("url", "own_server"),
    [("postgresql+psycopg://u:p@localhost/db", True),
     ("postgresql://u@127.0.0.1:5432/db", True),
     ("postgresql:///caratzon", True),
     ("postgresql://u@/caratzon?host=/run/postgresql", True),
     ("postgresql://u:p@db.internal.example/db", False)],
)
def test_a_database_on_the_portals_own_server_is_no_transfer(tmp_path: Path, url: str, own_server: bool) -> None:
    facts = deployment_facts(config(tmp_path, CARATZON_DATABASE_URL=url))
    assert facts.database_on_portal_server is own_server
    postgres = by_key(register(facts))["postgresql"]
    assert postgres.in_use
    assert (postgres.transfer_safeguard == NO_TRANSFER) is own_server


def test_a_local_mail_relay_is_named_as_such(tmp_path: Path) -> None:
    smtp = by_key(processors_register(config(tmp_path, CARATZON_SMTP_URL="smtp://localhost:1025")))["smtp"]
    assert smtp.in_use and smtp.region == "A mail relay on the portal's own server"


def test_the_document_names_no_host_and_no_secret(tmp_path: Path) -> None:
    document = register_document(processors_register(config(tmp_path, **cloud_env())))
    text = json.dumps(document)
    for hidden in (DB_PASSWORD, SMTP_PASSWORD, GEMINI_KEY, SECRET, "db.internal.example", "smtp.mail.example",
                   "caratzon-assets"):
        assert hidden not in text


def test_the_document_says_no_sale_and_lists_the_transfer_safeguards() -> None:
    document: dict[str, Any] = register_document(register(DeploymentFacts()))
    assert document["version"] == 1
    assert document["no_sale"] == {"promise_id": "P24", "statement": NO_SALE_STATEMENT}
    assert "do not sell" in NO_SALE_STATEMENT and "advertisers" in NO_SALE_STATEMENT
    assert document["transfers"]["promise_id"] == "P43"
    assert "standard contractual clauses" in document["transfers"]["statement"]
    assert document["transfers"]["policy_jurisdictions"] == list(POLICY_JURISDICTIONS)
    assert document["transfers"]["unlisted"] == []
    first = document["processors"][0]
    assert set(first) == {"key", "name", "purpose", "data_categories", "region", "transfer_safeguard",
                          "promise_ids", "in_use", "status", "jurisdictions"}
    json.dumps(document)  # plain data all the way down


# -- CARATZON_S3_REGION --------------------------------------------------------------------------


def test_s3_region_defaults_to_us_east_1_and_reads_the_aws_variables(tmp_path: Path) -> None:
    assert config(tmp_path).s3_region == "us-east-1"
    assert config(tmp_path, AWS_DEFAULT_REGION="ap-east-1").s3_region == "ap-east-1"
    assert config(tmp_path, AWS_DEFAULT_REGION="ap-east-1", AWS_REGION="eu-west-2").s3_region == "eu-west-2"
    chosen = config(tmp_path, AWS_REGION="eu-west-2", CARATZON_S3_REGION="cn-north-1")
    assert chosen.s3_region == "cn-north-1"
    assert chosen.masked()["CARATZON_S3_REGION"] == "cn-north-1"


@pytest.mark.parametrize("bad", ["europe", "eu west 2", "us-east-1; rm", "eu-west-"])
def test_a_malformed_s3_region_is_a_config_error(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError, match="CARATZON_S3_REGION"):
        config(tmp_path, CARATZON_S3_REGION=bad)


def test_the_s3_client_signs_for_the_configured_region(tmp_path: Path) -> None:
    pytest.importorskip("boto3")
    from caratzon_adapters.bootstrap import bootstrap
    from caratzon_core.testing import FakeClock, FakeHasher, InMemoryStore

    cfg = config(tmp_path, CARATZON_BLOB_STORE="s3://caratzon-assets", CARATZON_S3_REGION="eu-west-2")
    services = bootstrap(cfg, uow=InMemoryStore(), hasher=FakeHasher(), clock=FakeClock())
    assert services.blobs._client.meta.region_name == "eu-west-2"  # type: ignore[attr-defined]
