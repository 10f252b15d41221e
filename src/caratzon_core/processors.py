"""The processors and international-transfers register (policy §6 and §10).

:func:`register` lists every service provider the platform can hand personal data
to — file storage, the database, the payment gateway, the AI service and the mail
relay — from plain facts about this deployment's configuration
(:class:`DeploymentFacts`). Each entry says what it is for, which categories of
data it receives (in the words of the policy's section 3), where it runs, the
transfer safeguard of section 10 and the promises it serves. Alternatives this
deployment does not use stay in the list, marked not in use, so the register is
honest about what actually runs (P21 to P24, P43).

:data:`POLICY_JURISDICTIONS` are the places section 10 names; :func:`unlisted_transfers`
picks out the processors in use that send data anywhere else, so an operator who
chooses, say, an S3 region in Ireland sees at once that the policy does not
disclose it.

Pure: standard library and attrs only. The web page ``/legal/processors``, its JSON
form and the access export all read :func:`register_document`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

from attrs import field, frozen

REGISTER_VERSION = 1

# Section 10: "including Hong Kong, China, the United Kingdom, and the United States".
POLICY_JURISDICTIONS = ("Hong Kong", "China", "United Kingdom", "United States")

NOT_IN_USE = "not in use in this deployment"

# P24, in the policy's own words (section 6) and what it means for this register.
NO_SALE_STATEMENT = (
    "We do not sell your personal data to third parties. We do not share your data with advertisers. "
    "No processor in this register is an advertiser or a data broker, and each receives only what its "
    "purpose needs, to act on our instructions."
)
# P43: section 10.
TRANSFER_STATEMENT = (
    "Caratzon operates from Hong Kong with offices in Shanghai and London. Where data is transferred "
    "internationally, standard contractual clauses and data processing agreements with our service "
    "providers are in place."
)

# Section 3 categories, in the policy's words.
ACCOUNT = "Account data"
PROFILE = "Profile data"
DESIGN_ASSETS = "Design assets"
TRANSACTION = "Transaction data"
PAYMENT = "Payment data"
COMMUNICATIONS = "Communications"
DEVICE = "Device and browser data"
USAGE = "Usage data"
ANALYTICS = "Analytics data"

# Section 10 safeguards.
NO_TRANSFER = "None needed: the data stays on the portal's own server and no third party receives it."
SCC_AND_DPA = "Standard contractual clauses and a data processing agreement with the provider."
OPERATOR_HOST = (
    "A data processing agreement with the hosting provider, and standard contractual clauses "
    "where the server is outside the user's country."
)

OWN_SERVER = "The portal's own server"
UNSTATED = "location not stated in the configuration"


class BlobStoreKind(enum.StrEnum):
    LOCAL = "local"
    S3 = "s3"


class DatabaseKind(enum.StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


class PaymentsKind(enum.StrEnum):
    OFFLINE = "offline"
    STRIPE = "stripe"


class AIKind(enum.StrEnum):
    OFFLINE = "offline"
    GEMINI = "gemini"


class MailKind(enum.StrEnum):
    FILES = "files"
    SMTP = "smtp"


@frozen(kw_only=True)
class DeploymentFacts:
    """What this deployment is configured to use; no secret, no host name.

    ``s3_custom_endpoint``/``ai_custom_endpoint``: the operator points the client at
    another endpoint (MinIO, a proxy), so the provider and place are the operator's.
    ``*_on_portal_server``: the database or mail relay is reached on localhost or a
    local socket."""

    blob_store: BlobStoreKind = field(default=BlobStoreKind.LOCAL, converter=BlobStoreKind)
    s3_region: str | None = None
    s3_custom_endpoint: bool = False
    database: DatabaseKind = field(default=DatabaseKind.SQLITE, converter=DatabaseKind)
    database_on_portal_server: bool = False
    payments: PaymentsKind = field(default=PaymentsKind.OFFLINE, converter=PaymentsKind)
    ai: AIKind = field(default=AIKind.OFFLINE, converter=AIKind)
    ai_custom_endpoint: bool = False
    mail: MailKind = field(default=MailKind.FILES, converter=MailKind)
    mail_relay_on_portal_server: bool = False


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@frozen(kw_only=True)
class Processor:
    """One entry of the register. ``key`` is stable (for JSON readers and the export);
    ``jurisdictions`` are the places outside the portal's own server the data goes to,
    as far as the configuration says (empty: none, or not stated)."""

    key: str
    name: str
    purpose: str
    data_categories: tuple[str, ...] = field(converter=_strings)
    region: str
    transfer_safeguard: str
    promise_ids: tuple[str, ...] = field(converter=_strings)
    in_use: bool
    jurisdictions: tuple[str, ...] = field(default=(), converter=_strings)

    @property
    def status(self) -> str:
        return "in use" if self.in_use else NOT_IN_USE

    @property
    def unlisted_jurisdictions(self) -> tuple[str, ...]:
        """The places this processor sends data to that section 10 does not name."""
        return tuple(j for j in self.jurisdictions if j not in POLICY_JURISDICTIONS)


# AWS regions: (place, jurisdiction).
AWS_REGIONS: dict[str, tuple[str, str]] = {
    "us-east-1": ("N. Virginia", "United States"),
    "us-east-2": ("Ohio", "United States"),
    "us-west-1": ("N. California", "United States"),
    "us-west-2": ("Oregon", "United States"),
    "us-gov-east-1": ("GovCloud US-East", "United States"),
    "us-gov-west-1": ("GovCloud US-West", "United States"),
    "ap-east-1": ("Hong Kong", "Hong Kong"),
    "cn-north-1": ("Beijing", "China"),
    "cn-northwest-1": ("Ningxia", "China"),
    "eu-west-2": ("London", "United Kingdom"),
    "eu-west-1": ("Ireland", "Ireland"),
    "eu-west-3": ("Paris", "France"),
    "eu-central-1": ("Frankfurt", "Germany"),
    "eu-central-2": ("Zurich", "Switzerland"),
    "eu-north-1": ("Stockholm", "Sweden"),
    "eu-south-1": ("Milan", "Italy"),
    "eu-south-2": ("Spain", "Spain"),
    "ap-northeast-1": ("Tokyo", "Japan"),
    "ap-northeast-2": ("Seoul", "South Korea"),
    "ap-northeast-3": ("Osaka", "Japan"),
    "ap-southeast-1": ("Singapore", "Singapore"),
    "ap-southeast-2": ("Sydney", "Australia"),
    "ap-southeast-3": ("Jakarta", "Indonesia"),
    "ap-southeast-4": ("Melbourne", "Australia"),
    "ap-south-1": ("Mumbai", "India"),
    "ap-south-2": ("Hyderabad", "India"),
    "ca-central-1": ("Canada Central", "Canada"),
    "ca-west-1": ("Calgary", "Canada"),
    "sa-east-1": ("São Paulo", "Brazil"),
    "af-south-1": ("Cape Town", "South Africa"),
    "me-south-1": ("Bahrain", "Bahrain"),
    "me-central-1": ("UAE", "United Arab Emirates"),
    "il-central-1": ("Tel Aviv", "Israel"),
}
DEFAULT_S3_REGION = "us-east-1"


def aws_region(region: str) -> tuple[str, str]:
    """``(region text, jurisdiction)`` for an AWS region; an unknown region is its own
    jurisdiction, so it never passes for one the policy names."""
    known = AWS_REGIONS.get(region)
    if known is None:
        return f"AWS {region}", f"AWS region {region} (unknown to this register)"
    place, jurisdiction = known
    where = place if place == jurisdiction else f"{place}, {jurisdiction}"
    return f"AWS {region} ({where})", jurisdiction


def _file_storage(facts: DeploymentFacts) -> tuple[Processor, Processor]:
    purpose_files = ("Keeps uploaded files: design assets (CAD files, images, renders) and message "
                     "attachments, reached only through signed links that expire.")
    categories = (DESIGN_ASSETS, COMMUNICATIONS)
    local = Processor(
        key="local-files",
        name="Local file storage (the portal's data folder)",
        purpose=purpose_files,
        data_categories=categories,
        region=OWN_SERVER,
        transfer_safeguard=NO_TRANSFER,
        promise_ids=("P3", "P27"),
        in_use=facts.blob_store is BlobStoreKind.LOCAL,
    )
    if facts.s3_custom_endpoint:
        name = "S3-compatible object storage (endpoint set by the operator)"
        region = f"The operator's S3-compatible endpoint ({UNSTATED})"
        jurisdictions: tuple[str, ...] = ()
        safeguard = OPERATOR_HOST
    else:
        name = "Amazon Web Services S3"
        region, jurisdiction = aws_region(facts.s3_region or DEFAULT_S3_REGION)
        jurisdictions = (jurisdiction,)
        safeguard = SCC_AND_DPA
    s3 = Processor(
        key="aws-s3",
        name=name,
        purpose=purpose_files + " Encrypted at rest (AES-256).",
        data_categories=categories,
        region=region,
        transfer_safeguard=safeguard,
        promise_ids=("P22", "P25", "P27", "P43"),
        in_use=facts.blob_store is BlobStoreKind.S3,
        jurisdictions=jurisdictions,
    )
    return local, s3


def _database(facts: DeploymentFacts) -> tuple[Processor, Processor]:
    purpose = ("Holds the application data: accounts, profiles, design records, negotiations, agreements, "
               "orders and ledger, messages, consents, audit trail.")
    categories = (ACCOUNT, PROFILE, DESIGN_ASSETS, TRANSACTION, COMMUNICATIONS, DEVICE, USAGE, ANALYTICS)
    sqlite = Processor(
        key="sqlite",
        name="Embedded SQLite database",
        purpose=purpose,
        data_categories=categories,
        region=OWN_SERVER,
        transfer_safeguard=NO_TRANSFER,
        promise_ids=("P22",),
        in_use=facts.database is DatabaseKind.SQLITE,
    )
    on_own = facts.database_on_portal_server
    postgres = Processor(
        key="postgresql",
        name="PostgreSQL database server",
        purpose=purpose,
        data_categories=categories,
        region=OWN_SERVER if on_own else f"The operator's database server ({UNSTATED})",
        transfer_safeguard=NO_TRANSFER if on_own else OPERATOR_HOST,
        promise_ids=("P22", "P43"),
        in_use=facts.database is DatabaseKind.POSTGRESQL,
    )
    return sqlite, postgres


def _payments(facts: DeploymentFacts) -> tuple[Processor, Processor]:
    offline = Processor(
        key="offline-payments",
        name="Offline payment ledger (no payment provider)",
        purpose=("Records charges, transfers and payouts in the platform's ledger; no money moves and no "
                 "payment data leaves the platform. No card numbers are asked for or stored."),
        data_categories=(TRANSACTION,),
        region=OWN_SERVER,
        transfer_safeguard=NO_TRANSFER,
        promise_ids=("P5", "P21"),
        in_use=facts.payments is PaymentsKind.OFFLINE,
    )
    stripe = Processor(
        key="stripe",
        name="Stripe Connect",
        purpose=("Processes payments and designer payouts. Receives only the payment and billing data a "
                 "transaction needs (amount, currency, order reference, billing details); card numbers "
                 "go to Stripe directly and are never stored on our servers."),
        data_categories=(PAYMENT, TRANSACTION),
        region="Stripe (US/EU)",
        transfer_safeguard=SCC_AND_DPA,
        promise_ids=("P5", "P11", "P21", "P43"),
        in_use=facts.payments is PaymentsKind.STRIPE,
        jurisdictions=("United States", "European Union"),
    )
    return offline, stripe


def _ai(facts: DeploymentFacts) -> tuple[Processor, Processor]:
    offline = Processor(
        key="offline-ai",
        name="No AI service (offline)",
        purpose=("Nothing is sent to an AI service: messages are shown in their original language, "
                 "marked as such."),
        data_categories=(),
        region=OWN_SERVER,
        transfer_safeguard=NO_TRANSFER,
        promise_ids=("P18", "P23"),
        in_use=facts.ai is AIKind.OFFLINE,
    )
    if facts.ai_custom_endpoint:
        region = f"The operator's Gemini endpoint ({UNSTATED})"
        jurisdictions: tuple[str, ...] = ()
    else:
        region, jurisdictions = "Google Cloud (US)", ("United States",)
    gemini = Processor(
        key="google-gemini",
        name="Google Gemini",
        purpose=("Translates the text of platform messages between users' languages (one of the purposes "
                 "of section 5); never sent the text of anyone who objects or is restricted, and not used "
                 "to train AI models."),
        data_categories=(COMMUNICATIONS,),
        region=region,
        transfer_safeguard=SCC_AND_DPA,
        promise_ids=("P18", "P23", "P43"),
        in_use=facts.ai is AIKind.GEMINI,
        jurisdictions=jurisdictions,
    )
    return offline, gemini


def _mail(facts: DeploymentFacts) -> tuple[Processor, Processor]:
    purpose = ("Notification e-mails: order updates, licence offers and new-message notices, addressed "
               "by name and e-mail address.")
    categories = (ACCOUNT, TRANSACTION, COMMUNICATIONS)
    files = Processor(
        key="mail-files",
        name="Mail written to files (no mail relay)",
        purpose=purpose + " Written as .eml files on the portal's server; nothing is sent.",
        data_categories=categories,
        region=OWN_SERVER,
        transfer_safeguard=NO_TRANSFER,
        promise_ids=("P16",),
        in_use=facts.mail is MailKind.FILES,
    )
    if facts.mail_relay_on_portal_server:
        relay_region = "A mail relay on the portal's own server"
        relay_safeguard = ("None needed for the relay itself; each mail then travels to the recipient's own "
                           "mail provider.")
    else:
        relay_region, relay_safeguard = f"The operator's mail relay ({UNSTATED})", OPERATOR_HOST
    smtp = Processor(
        key="smtp",
        name="SMTP mail relay",
        purpose=purpose,
        data_categories=categories,
        region=relay_region,
        transfer_safeguard=relay_safeguard,
        promise_ids=("P16", "P43"),
        in_use=facts.mail is MailKind.SMTP,
    )
    return files, smtp


def register(facts: DeploymentFacts) -> tuple[Processor, ...]:
    """Every processor, those in use by this deployment and the alternatives not in use,
    grouped by what they do (files, database, payments, AI, mail)."""
    return (*_file_storage(facts), *_database(facts), *_payments(facts), *_ai(facts), *_mail(facts))


def in_use(processors: Iterable[Processor]) -> tuple[Processor, ...]:
    return tuple(p for p in processors if p.in_use)


def unlisted_transfers(processors: Iterable[Processor]) -> tuple[Processor, ...]:
    """Processors in use that send data to a place section 10 does not name (P43)."""
    return tuple(p for p in processors if p.in_use and p.unlisted_jurisdictions)


def processor_json(processor: Processor) -> dict[str, Any]:
    return {
        "key": processor.key,
        "name": processor.name,
        "purpose": processor.purpose,
        "data_categories": list(processor.data_categories),
        "region": processor.region,
        "transfer_safeguard": processor.transfer_safeguard,
        "promise_ids": list(processor.promise_ids),
        "in_use": processor.in_use,
        "status": processor.status,
        "jurisdictions": list(processor.jurisdictions),
    }


def register_document(processors: Iterable[Processor]) -> dict[str, Any]:
    """The register as plain JSON-ready data: the page, ``/api/v1/legal/processors``
    and the access export show exactly this."""
    items = tuple(processors)
    return {
        "version": REGISTER_VERSION,
        "processors": [processor_json(p) for p in items],
        "no_sale": {"promise_id": "P24", "statement": NO_SALE_STATEMENT},
        "transfers": {
            "promise_id": "P43",
            "statement": TRANSFER_STATEMENT,
            "policy_jurisdictions": list(POLICY_JURISDICTIONS),
            "unlisted": [{"key": p.key, "name": p.name, "jurisdictions": list(p.unlisted_jurisdictions)}
                         for p in unlisted_transfers(items)],
        },
    }
