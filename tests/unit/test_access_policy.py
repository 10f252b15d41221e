"""P13, P26: role-based access. Every role x action is decided by one pure function,
deny by default, with a reason a person can read."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caratzon_core.access import POLICY, Action, Actor, Resource, Scope, authorize, decide
from caratzon_core.accounts import Role, UserStatus
from caratzon_core.errors import Forbidden

D, B, M, PM, A = Role.DESIGNER, Role.BUYER, Role.MANUFACTURER, Role.PRODUCTION_MANAGER, Role.ADMIN

# The matrix as a person would write it: who may do each action on their OWN
# resource, on SOMEONE ELSE's unpublished one, on someone else's PUBLISHED one, and
# with a GRANT (the manufacturer assigned to an order under NDA). Kept apart from
# POLICY on purpose, so a change to the policy table must be made here too.
ALL = {D, B, M, PM, A}
MATRIX: dict[Action, tuple[set[Role], set[Role], set[Role], set[Role]]] = {
    #                          own   others  published-others  granted
    Action.ACCOUNT_VIEW: (ALL, {A}, {A}, {A}),
    Action.ACCOUNT_UPDATE: (ALL, {A}, {A}, {A}),
    Action.ACCOUNT_CLOSE: (ALL, {A}, {A}, {A}),
    Action.PROFILE_UPDATE: ({D}, set(), set(), set()),
    Action.TOKEN_ISSUE: (ALL, set(), set(), set()),
    Action.TOKEN_REVOKE: (ALL, set(), set(), set()),
    Action.USER_CREATE: ({A}, {A}, {A}, {A}),
    Action.USER_LIST: ({A}, {A}, {A}, {A}),
    Action.AUDIT_VERIFY: ({A}, {A}, {A}, {A}),
    Action.AUDIT_PRUNE: ({A}, {A}, {A}, {A}),
    Action.DESIGN_CREATE: ({D}, {D}, {D}, {D}),
    Action.DESIGN_EDIT: ({D}, set(), set(), set()),
    Action.DESIGN_VIEW: (ALL, {A}, ALL, {A}),
    Action.ASSET_VIEW_PREVIEW: (ALL, {A}, ALL, {A}),
    Action.ASSET_VIEW_PRODUCTION: ({D, M, A}, {A}, {A}, {M, A}),
    Action.CATALOG_BROWSE: (ALL, ALL, ALL, ALL),
    Action.DESIGN_SAVE: ({B}, set(), {B}, set()),
    Action.ANALYTICS_VIEW: ({D, A}, {A}, {A}, {A}),
    # Issue #4: the negotiation's owner is its designer, the buyer its grantee.
    Action.LICENCE_OPTION_EDIT: ({D}, set(), set(), set()),
    Action.NEGOTIATION_OPEN: ({B}, set(), {B}, set()),
    Action.NEGOTIATION_VIEW: ({B, D, A}, {A}, {A}, {B, A}),
    Action.NEGOTIATION_ACT: ({B, D}, set(), set(), {B}),
    Action.AGREEMENT_VIEW: ({B, D, A}, {A}, {A}, {B, A}),
    Action.THREAD_READ: (ALL, set(), set(), ALL),
    Action.THREAD_POST: (ALL, set(), set(), ALL),
    Action.SUPPORT_OPEN: (ALL, ALL, ALL, ALL),
    Action.SUPPORT_ANSWER: ({A}, {A}, {A}, {A}),
    Action.WORKER_RUN: ({A}, {A}, {A}, {A}),
    # Issue #5: an order's owner is its buyer; designer, manufacturer and production are grantees.
    Action.MANUFACTURER_PROFILE_EDIT: ({M, PM, A}, {A}, {A}, {A}),
    Action.MANUFACTURER_VET: ({PM, A}, {PM, A}, {PM, A}, {PM, A}),
    Action.MANUFACTURER_LIST: ({PM, A}, {PM, A}, {PM, A}, {PM, A}),
    Action.ORDER_CREATE: ({B}, set(), set(), set()),
    Action.ORDER_VIEW: ({B, D, M, PM, A}, {A}, {A}, {D, M, PM, A}),
    Action.ORDER_ROUTE: ({PM, A}, {PM, A}, {PM, A}, {PM, A}),
    Action.PRICES_SET: ({PM, A}, {PM, A}, {PM, A}, {PM, A}),
    Action.POLICY_PUBLISH: ({A}, {A}, {A}, {A}),
    # Issue #6: everyone asks about their own data; admins act for others (after the emailed code).
    Action.DSR_OPEN: (ALL, {A}, {A}, {A}),
    Action.DSR_VIEW: (ALL, {A}, {A}, {A}),
    Action.DSR_WORK: ({A}, {A}, {A}, {A}),
    Action.USER_FLAG_MINOR: ({A}, {A}, {A}, {A}),
    Action.RETENTION_RUN: ({A}, {A}, {A}, {A}),
    Action.LEGAL_HOLD: ({A}, {A}, {A}, {A}),
}


def test_matrix_covers_every_action() -> None:
    assert set(MATRIX) == set(Action) == set(POLICY)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", list(Role))
def test_role_action_matrix(role: Role, action: Action) -> None:
    own_allowed, others_allowed, published_allowed, granted_allowed = MATRIX[action]
    actor = Actor(id="u1", role=role)
    own = decide(actor, action, Resource("account", "u1", owner_id="u1"))
    other = decide(actor, action, Resource("account", "u2", owner_id="u2"))
    published = decide(actor, action, Resource("design", "d2", owner_id="u2", public=True))
    granted = decide(actor, action, Resource("design", "d2", owner_id="u2", grantees=frozenset({"u1"})))
    assert own.allowed is (role in own_allowed), own.reason
    assert other.allowed is (role in others_allowed), other.reason
    assert published.allowed is (role in published_allowed), published.reason
    assert granted.allowed is (role in granted_allowed), granted.reason
    for decision in (own, other, published, granted):
        assert decision.reason and decision.reason.endswith(".")


def test_production_cad_is_refused_to_buyers_with_the_reason() -> None:
    """P20, P28: a buyer never gets production CAD, even of a published design."""
    decision = decide(Actor("b1", Role.BUYER), Action.ASSET_VIEW_PRODUCTION,
                      Resource("asset", "a1", owner_id="d1", public=True, grantees=frozenset({"b1"})))
    assert not decision.allowed
    assert "vetted manufacturer" in decision.reason


def test_a_manufacturer_without_a_grant_is_refused_production_cad() -> None:
    decision = decide(Actor("m1", Role.MANUFACTURER), Action.ASSET_VIEW_PRODUCTION,
                      Resource("asset", "a1", owner_id="d1", public=True, grantees=frozenset({"m2"})))
    assert not decision.allowed


actions = st.sampled_from(list(Action))
roles = st.sampled_from(list(Role))
ids = st.sampled_from(["u1", "u2", "u3", None])


@given(actions, roles, st.sampled_from(list(UserStatus)), ids, ids)
def test_no_role_outside_an_actions_set_ever_gets_it(
    action: Action, role: Role, status: UserStatus, actor_id: str | None, owner: str | None
) -> None:
    actor = Actor(id=actor_id or "anon", role=role, status=status)
    decision = decide(actor, action, Resource("thing", owner, owner_id=owner))
    rule = POLICY[action]
    if role not in rule.roles:
        assert not decision.allowed
    if status is UserStatus.CLOSED:
        assert not decision.allowed
    if decision.allowed and rule.scope is Scope.OWN and owner != actor.id:
        # Someone else's resource: only admins (where allowed) or public access.
        assert (role is Role.ADMIN and rule.admin_on_others) or (rule.public_ok and role not in rule.grant_roles)


@given(actions, st.sampled_from(["u1", None]))
def test_anonymous_is_always_denied(action: Action, owner: str | None) -> None:
    decision = decide(None, action, Resource("account", owner_id=owner))
    assert not decision.allowed
    assert "logged in" in decision.reason


def test_unknown_action_is_denied_by_default() -> None:
    decision = decide(Actor("u1", Role.ADMIN), "design.launch_rocket", Resource("x"))  # type: ignore[arg-type]
    assert not decision.allowed
    assert "denied" in decision.reason


def test_authorize_raises_with_the_reason() -> None:
    with pytest.raises(Forbidden, match="Only admins may list all accounts"):
        authorize(Actor("u1", Role.BUYER), Action.USER_LIST, Resource("account"))


def test_cli_operator_is_an_admin() -> None:
    operator = Actor.cli_operator()
    assert decide(operator, Action.USER_CREATE, Resource("account")).allowed
