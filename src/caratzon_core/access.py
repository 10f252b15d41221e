"""The access policy (P13, P26): one pure function decides every use case.

``decide(actor, action, resource)`` returns a :class:`Decision` with a reason a
person can read. Anything not written in :data:`POLICY` is denied: deny by
default. Use cases call :func:`authorize`, which raises :class:`Forbidden` with
the same reason.
"""

from __future__ import annotations

import enum

from attrs import frozen

from caratzon_core.accounts import Role, UserStatus
from caratzon_core.errors import Forbidden


class Action(enum.StrEnum):
    ACCOUNT_VIEW = "account.view"
    ACCOUNT_UPDATE = "account.update"
    ACCOUNT_CLOSE = "account.close"
    PROFILE_UPDATE = "profile.update"
    TOKEN_ISSUE = "token.issue"
    TOKEN_REVOKE = "token.revoke"
    USER_CREATE = "user.create"
    USER_LIST = "user.list"
    AUDIT_VERIFY = "audit.verify"
    AUDIT_PRUNE = "audit.prune"
    DESIGN_CREATE = "design.create"
    DESIGN_EDIT = "design.edit"
    DESIGN_VIEW = "design.view"
    ASSET_VIEW_PREVIEW = "asset.view_preview"
    ASSET_VIEW_PRODUCTION = "asset.view_production"
    CATALOG_BROWSE = "catalog.browse"
    DESIGN_SAVE = "design.save"
    ANALYTICS_VIEW = "analytics.view"
    LICENCE_OPTION_EDIT = "licence_option.edit"
    NEGOTIATION_OPEN = "negotiation.open"
    NEGOTIATION_VIEW = "negotiation.view"
    NEGOTIATION_ACT = "negotiation.act"
    AGREEMENT_VIEW = "agreement.view"
    THREAD_READ = "thread.read"
    THREAD_POST = "thread.post"
    SUPPORT_OPEN = "support.open"
    SUPPORT_ANSWER = "support.answer"
    WORKER_RUN = "worker.run"
    MANUFACTURER_PROFILE_EDIT = "manufacturer.profile_edit"
    MANUFACTURER_VET = "manufacturer.vet"
    MANUFACTURER_LIST = "manufacturer.list"
    ORDER_CREATE = "order.create"
    ORDER_VIEW = "order.view"
    ORDER_ROUTE = "order.route"
    PRICES_SET = "prices.set"
    POLICY_PUBLISH = "policy.publish"
    DSR_OPEN = "dsr.open"
    DSR_VIEW = "dsr.view"
    DSR_WORK = "dsr.work"
    USER_FLAG_MINOR = "user.flag_minor"
    RETENTION_RUN = "retention.run"
    LEGAL_HOLD = "legal_hold.place"


class Scope(enum.Enum):
    OWN = "own"  # the actor must own the resource (admins may act on anyone's).
    ANY = "any"  # the role alone suffices.


@frozen
class Rule:
    roles: frozenset[Role]
    scope: Scope
    # Admins acting on somebody else's resource (support, rectification on request).
    admin_on_others: bool = False
    allow_restricted: bool = True
    # Anyone with an allowed role may act on a *public* resource (a published design).
    public_ok: bool = False
    # Roles that need a grant on the resource (e.g. the manufacturer assigned to an
    # order, vetted and under a valid NDA) rather than ownership.
    grant_roles: frozenset[Role] = frozenset()
    # What a person is told when the role, ownership or a grant is missing.
    explain: str | None = None


ALL_ROLES = frozenset(Role)

POLICY: dict[Action, Rule] = {
    Action.ACCOUNT_VIEW: Rule(ALL_ROLES, Scope.OWN, admin_on_others=True),
    Action.ACCOUNT_UPDATE: Rule(ALL_ROLES, Scope.OWN, admin_on_others=True),
    Action.ACCOUNT_CLOSE: Rule(ALL_ROLES, Scope.OWN, admin_on_others=True),
    Action.PROFILE_UPDATE: Rule(frozenset({Role.DESIGNER}), Scope.OWN),
    Action.TOKEN_ISSUE: Rule(ALL_ROLES, Scope.OWN),
    Action.TOKEN_REVOKE: Rule(ALL_ROLES, Scope.OWN),
    Action.USER_CREATE: Rule(frozenset({Role.ADMIN}), Scope.ANY),
    Action.USER_LIST: Rule(frozenset({Role.ADMIN}), Scope.ANY),
    Action.AUDIT_VERIFY: Rule(frozenset({Role.ADMIN}), Scope.ANY),
    Action.AUDIT_PRUNE: Rule(frozenset({Role.ADMIN}), Scope.ANY),
    Action.DESIGN_CREATE: Rule(frozenset({Role.DESIGNER}), Scope.ANY),
    Action.DESIGN_EDIT: Rule(
        frozenset({Role.DESIGNER}), Scope.OWN, explain="Only the designer who owns a design may edit it."
    ),
    Action.DESIGN_VIEW: Rule(
        ALL_ROLES, Scope.OWN, admin_on_others=True, public_ok=True,
        explain="This design is not published.",
    ),
    Action.ASSET_VIEW_PREVIEW: Rule(
        ALL_ROLES, Scope.OWN, admin_on_others=True, public_ok=True,
        explain="This design is not published.",
    ),
    # P20, P28: production CAD only for the owner, admins, and the vetted manufacturer
    # assigned to an order under a valid NDA (the grant is computed by the orders use case).
    Action.ASSET_VIEW_PRODUCTION: Rule(
        frozenset({Role.DESIGNER, Role.MANUFACTURER, Role.ADMIN}), Scope.OWN, admin_on_others=True,
        grant_roles=frozenset({Role.MANUFACTURER}),
        explain="Production CAD files are only for the design's owner and the vetted manufacturer "
        "assigned to an order under a valid NDA.",
    ),
    Action.CATALOG_BROWSE: Rule(ALL_ROLES, Scope.ANY),
    Action.DESIGN_SAVE: Rule(frozenset({Role.BUYER}), Scope.OWN, public_ok=True,
                             explain="Buyers may save published designs to a list."),
    Action.ANALYTICS_VIEW: Rule(frozenset({Role.DESIGNER, Role.ADMIN}), Scope.OWN, admin_on_others=True),
    # Issue #4. A negotiation's owner is the designer; the buyer is its grantee.
    Action.LICENCE_OPTION_EDIT: Rule(
        frozenset({Role.DESIGNER}), Scope.OWN, allow_restricted=False,
        explain="Only the designer who owns a design may offer licences on it.",
    ),
    Action.NEGOTIATION_OPEN: Rule(
        frozenset({Role.BUYER}), Scope.OWN, public_ok=True, allow_restricted=False,
        explain="Only buyers may open a licence negotiation, on a published design.",
    ),
    Action.NEGOTIATION_VIEW: Rule(
        frozenset({Role.BUYER, Role.DESIGNER, Role.ADMIN}), Scope.OWN, admin_on_others=True,
        grant_roles=frozenset({Role.BUYER}),
        explain="Only the two parties to a negotiation, the buyer and the designer, may see it.",
    ),
    Action.NEGOTIATION_ACT: Rule(
        frozenset({Role.BUYER, Role.DESIGNER}), Scope.OWN, grant_roles=frozenset({Role.BUYER}),
        allow_restricted=False,
        explain="Only the two parties to a negotiation, the buyer and the designer, may act on it.",
    ),
    Action.AGREEMENT_VIEW: Rule(
        frozenset({Role.BUYER, Role.DESIGNER, Role.ADMIN}), Scope.OWN, admin_on_others=True,
        grant_roles=frozenset({Role.BUYER}),
        explain="Only the parties to an agreement may see it.",
    ),
    # A thread's owner is whoever opened it; the other participants are grantees.
    Action.THREAD_READ: Rule(
        ALL_ROLES, Scope.OWN, grant_roles=ALL_ROLES,
        explain="Only the participants of a conversation may read it.",
    ),
    Action.THREAD_POST: Rule(
        ALL_ROLES, Scope.OWN, grant_roles=ALL_ROLES,
        explain="Only the participants of a conversation may write in it.",
    ),
    Action.SUPPORT_OPEN: Rule(ALL_ROLES, Scope.ANY),
    Action.SUPPORT_ANSWER: Rule(frozenset({Role.ADMIN}), Scope.ANY),
    Action.WORKER_RUN: Rule(frozenset({Role.ADMIN}), Scope.ANY),
    # Issue #5. An order's owner is its buyer; the design's designer and the assigned
    # manufacturer are grantees; production managers and admins steer every order.
    Action.MANUFACTURER_PROFILE_EDIT: Rule(
        frozenset({Role.MANUFACTURER, Role.PRODUCTION_MANAGER, Role.ADMIN}), Scope.OWN, admin_on_others=True,
        explain="Only the manufacturer (or an admin) edits a manufacturer profile.",
    ),
    Action.MANUFACTURER_VET: Rule(frozenset({Role.PRODUCTION_MANAGER, Role.ADMIN}), Scope.ANY),
    Action.MANUFACTURER_LIST: Rule(frozenset({Role.PRODUCTION_MANAGER, Role.ADMIN}), Scope.ANY),
    Action.ORDER_CREATE: Rule(
        frozenset({Role.BUYER}), Scope.OWN, allow_restricted=False,
        explain="Only the buyer holding the licence may order pieces under it.",
    ),
    Action.ORDER_VIEW: Rule(
        frozenset({Role.BUYER, Role.DESIGNER, Role.MANUFACTURER, Role.PRODUCTION_MANAGER, Role.ADMIN}), Scope.OWN,
        admin_on_others=True, grant_roles=frozenset({Role.DESIGNER, Role.MANUFACTURER, Role.PRODUCTION_MANAGER}),
        explain="Only the order's buyer, the design's designer, the assigned manufacturer and production managers "
        "may see an order.",
    ),
    Action.ORDER_ROUTE: Rule(frozenset({Role.PRODUCTION_MANAGER, Role.ADMIN}), Scope.ANY),
    Action.PRICES_SET: Rule(frozenset({Role.PRODUCTION_MANAGER, Role.ADMIN}), Scope.ANY),
    # Issue #6, part 5 (P46): a new privacy-policy version, and its notices.
    Action.POLICY_PUBLISH: Rule(frozenset({Role.ADMIN}), Scope.ANY),
    # Issue #6, parts 1 and 7: data-subject requests (P35-P42) and reported minors (P45).
    # Restricted people keep every right (allow_restricted); an admin opens a request on
    # someone's behalf only after the person proves control of the account's email.
    Action.DSR_OPEN: Rule(ALL_ROLES, Scope.OWN, admin_on_others=True,
                          explain="You may only make requests about your own data."),
    Action.DSR_VIEW: Rule(ALL_ROLES, Scope.OWN, admin_on_others=True,
                          explain="You may only see your own requests."),
    Action.DSR_WORK: Rule(frozenset({Role.ADMIN}), Scope.ANY),
    Action.USER_FLAG_MINOR: Rule(frozenset({Role.ADMIN}), Scope.ANY),
    # Issue #6, parts 3 and 4: the retention engine (P30-P34) and legal holds.
    Action.RETENTION_RUN: Rule(frozenset({Role.ADMIN}), Scope.ANY),
    Action.LEGAL_HOLD: Rule(frozenset({Role.ADMIN}), Scope.ANY),
}

_ROLE_NAMES = {
    Role.DESIGNER: "designers",
    Role.BUYER: "buyers",
    Role.MANUFACTURER: "manufacturers",
    Role.PRODUCTION_MANAGER: "production managers",
    Role.ADMIN: "admins",
}


@frozen
class Actor:
    """Who is acting. ``operator`` marks a person at the CLI with shell access."""

    id: str
    role: Role
    status: UserStatus = UserStatus.ACTIVE
    operator: bool = False

    @classmethod
    def cli_operator(cls, name: str = "cli") -> Actor:
        return cls(id=f"operator:{name}", role=Role.ADMIN, operator=True)


@frozen
class Resource:
    kind: str
    id: str | None = None
    owner_id: str | None = None
    public: bool = False
    grantees: frozenset[str] = frozenset()


@frozen
class Decision:
    allowed: bool
    reason: str


def _roles_phrase(roles: frozenset[Role]) -> str:
    names = [_ROLE_NAMES[r] for r in Role if r in roles]
    if len(names) == 1:
        return f"only {names[0]}"
    return "only " + ", ".join(names[:-1]) + " and " + names[-1]


def decide(actor: Actor | None, action: Action, resource: Resource) -> Decision:
    rule = POLICY.get(action)
    if rule is None:
        return Decision(False, f"No rule allows '{action}'; everything not allowed is denied.")
    if actor is None:
        return Decision(False, "You must be logged in to do this.")
    if actor.status is UserStatus.CLOSED:
        return Decision(False, "This account is closed.")
    if actor.status is UserStatus.RESTRICTED and not rule.allow_restricted:
        return Decision(False, "Processing of this account is restricted.")
    if actor.role not in rule.roles:
        return Decision(False, rule.explain or f"{_roles_phrase(rule.roles).capitalize()} may {_verb(action)}.")
    if rule.scope is Scope.OWN and resource.owner_id != actor.id:
        if rule.admin_on_others and actor.role is Role.ADMIN:
            return Decision(True, f"Admins may {_verb(action)} for any {resource.kind}.")
        if rule.public_ok and resource.public and actor.role not in rule.grant_roles:
            return Decision(True, f"Anyone signed in may {_verb(action)} when it is published.")
        if actor.role in rule.grant_roles and actor.id in resource.grantees:
            return Decision(True, f"You were granted access to {_verb(action)} for this {resource.kind}.")
        if rule.explain:
            return Decision(False, rule.explain)
        return Decision(False, f"You may only {_verb(action)} for your own {resource.kind}.")

    return Decision(True, f"{_ROLE_NAMES[actor.role].capitalize()} may {_verb(action)}.")


def authorize(actor: Actor | None, action: Action, resource: Resource) -> Decision:
    decision = decide(actor, action, resource)
    if not decision.allowed:
        raise Forbidden(decision.reason)
    return decision


_VERBS = {
    Action.ACCOUNT_VIEW: "view account details",
    Action.ACCOUNT_UPDATE: "change account details",
    Action.ACCOUNT_CLOSE: "close an account",
    Action.PROFILE_UPDATE: "edit a designer profile",
    Action.TOKEN_ISSUE: "issue API tokens",
    Action.TOKEN_REVOKE: "revoke API tokens",
    Action.USER_CREATE: "create accounts for other people",
    Action.USER_LIST: "list all accounts",
    Action.AUDIT_VERIFY: "verify the audit trail",
    Action.AUDIT_PRUNE: "prune the audit trail",
    Action.DESIGN_CREATE: "create designs",
    Action.DESIGN_EDIT: "edit a design",
    Action.DESIGN_VIEW: "view a design",
    Action.ASSET_VIEW_PREVIEW: "view preview images and files",
    Action.ASSET_VIEW_PRODUCTION: "download production CAD files",
    Action.CATALOG_BROWSE: "browse the trade catalog",
    Action.DESIGN_SAVE: "save designs to a list",
    Action.ANALYTICS_VIEW: "see a design's engagement figures",
    Action.LICENCE_OPTION_EDIT: "offer licence options on a design",
    Action.NEGOTIATION_OPEN: "open a licence negotiation",
    Action.NEGOTIATION_VIEW: "see a licence negotiation",
    Action.NEGOTIATION_ACT: "make, accept, reject or withdraw offers",
    Action.AGREEMENT_VIEW: "see a licence agreement",
    Action.THREAD_READ: "read a conversation",
    Action.THREAD_POST: "write in a conversation",
    Action.SUPPORT_OPEN: "ask support or send feedback",
    Action.SUPPORT_ANSWER: "read and answer every support request",
    Action.WORKER_RUN: "run background jobs (expiry, mail delivery)",
    Action.MANUFACTURER_PROFILE_EDIT: "edit a manufacturer profile",
    Action.MANUFACTURER_VET: "vet or suspend manufacturers and record NDAs",
    Action.MANUFACTURER_LIST: "list manufacturers",
    Action.ORDER_CREATE: "order pieces under a licence",
    Action.ORDER_VIEW: "see an order",
    Action.ORDER_ROUTE: "route orders to manufacturers",
    Action.PRICES_SET: "set metal, stone and labour prices",
    Action.POLICY_PUBLISH: "publish a new privacy policy version",
    Action.DSR_OPEN: "make a data-subject request",
    Action.DSR_VIEW: "see a data-subject request",
    Action.DSR_WORK: "work the queue of data-subject requests",
    Action.USER_FLAG_MINOR: "flag an account as a minor's",
    Action.RETENTION_RUN: "plan or run the retention job",
    Action.LEGAL_HOLD: "place or release a legal hold",
}


def _verb(action: Action) -> str:
    return _VERBS.get(action, str(action))


def policy_matrix_markdown() -> str:
    """The policy as a Markdown table; docs/access-policy.md embeds it verbatim and a
    test keeps the two equal."""
    roles = list(Role)
    header = "| action | " + " | ".join(r.value for r in roles) + " |"
    lines = [header, "|---|" + "---|" * len(roles)]
    for action in Action:
        rule = POLICY[action]
        cells = []
        for role in roles:
            if role not in rule.roles:
                cells.append("—")
            elif rule.scope is Scope.ANY:
                cells.append("yes")
            elif role is Role.ADMIN and rule.admin_on_others:
                cells.append("any")
            elif role in rule.grant_roles:
                cells.append("granted")
            elif rule.public_ok:
                cells.append("own + published")
            else:
                cells.append("own")
        lines.append(f"| `{action.value}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
