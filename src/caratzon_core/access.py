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
        return Decision(False, f"{_roles_phrase(rule.roles).capitalize()} may {_verb(action)}.")
    if rule.scope is Scope.OWN and resource.owner_id != actor.id:
        if rule.admin_on_others and actor.role is Role.ADMIN:
            return Decision(True, f"Admins may {_verb(action)} for any account.")
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
            else:
                cells.append("own")
        lines.append(f"| `{action.value}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
