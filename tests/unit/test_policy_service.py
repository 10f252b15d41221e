"""Privacy-policy versions and notices with fakes (issue #6 part 5; policy section 13,
P46): who may publish, what is refused, the notice e-mails a material change queues
(once per account that is not closed, in its language, in the version's own
transaction), acknowledgement, and continued use recorded as acceptance."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import attrs
import pytest

from caratzon_core.access import Actor
from caratzon_core.accounts import Role, UserStatus
from caratzon_core.errors import Conflict, Forbidden, NotFound, Unauthenticated, ValidationFailed
from caratzon_core.notices import NoticeKind, long_date, render
from caratzon_core.privacy import (
    INITIAL_POLICY_VERSION,
    MAX_POLICY_CHARS,
    PolicyAcceptance,
    PolicyVersion,
    check_version,
    clean_policy_text,
    latest_accepted,
    pending_material,
    unrecorded_current,
)
from caratzon_core.services import policy as policy_module
from caratzon_core.services.accounts import AccountService, SignUp
from caratzon_core.services.policy import NOTICE_BATCH, PolicyService, notice_dedupe_key
from caratzon_core.testing import FakeClock, InMemoryStore, fake_deps
from caratzon_core.testing_trade import Outbox

OPERATOR = Actor.cli_operator()
TEXT = "Privacy Policy\n\n1. Who we are\n\nClean Jewel Beyond Limited runs Caratzon.\n"


class World:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.deps, self.store = fake_deps(clock=self.clock)
        self.accounts = AccountService(self.deps)
        self.policy = PolicyService(self.deps)

    @property
    def today(self) -> date:
        return self.clock.now().date()

    def person(self, email: str, role: str = "buyer", language: str = "en"):
        user = self.accounts.sign_up(SignUp(
            email=email, password="Emerald-Cut-Halo-2026", name=email.split("@")[0].title(), role=role,
            date_of_birth=date(1985, 1, 1), accept_policy_version=self.policy.current().version,  # type: ignore[union-attr]
            language=language))
        return user

    def admin(self, email: str = "ada@example.com"):
        user = self.accounts.create_user(OPERATOR, SignUp(
            email=email, password="Emerald-Cut-Halo-2026", name="Ada", role="admin"))
        return user

    def user(self, user_id: str):
        return self.store.state.users[user_id]

    def outbox(self):
        return sorted(self.store.state.trade.outbox.values(), key=lambda m: m.notice.to_email)

    def audit_actions(self) -> list[str]:
        return [e.action for e in self.store.state.audit]


@pytest.fixture
def world() -> World:
    return World()


# -- who may publish ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
def test_only_admins_publish_and_a_denial_is_audited(world: World, role: Role) -> None:
    actor = Actor(id="u-1", role=role)
    with pytest.raises(Forbidden, match="Only admins may publish a new privacy policy version"):
        world.policy.publish(actor, None, TEXT, world.today + timedelta(days=30), True)
    assert [v.version for v in world.policy.versions()] == [INITIAL_POLICY_VERSION]
    assert world.store.state.audit[-1].action == "policy.publish"
    assert world.store.state.audit[-1].outcome == "denied"


def test_a_signed_in_admin_and_the_cli_operator_may_publish(world: World) -> None:
    admin = world.admin()
    first = world.policy.publish(world.accounts.actor_for(admin), None, TEXT, world.today + timedelta(days=10), False)
    assert first.version.published_by == admin.id
    second = world.policy.publish(OPERATOR, "v-next", TEXT, world.today + timedelta(days=20), False)
    assert second.version.published_by == "operator:cli"


def test_a_closed_admin_may_not_publish(world: World) -> None:
    with pytest.raises(Forbidden, match="closed"):
        world.policy.publish(Actor("a", Role.ADMIN, UserStatus.CLOSED), None, TEXT, world.today, False)


# -- what is stored --------------------------------------------------------------------------------


def test_publish_stores_text_dates_and_publisher_and_the_version_defaults_to_the_date(world: World) -> None:
    effective = world.today + timedelta(days=14)
    published = world.policy.publish(OPERATOR, None, "  Line one\r\nLine two\r\n\r\n", effective, False)
    stored = world.policy.get(effective.isoformat())
    assert stored == published.version
    assert stored == PolicyVersion(effective.isoformat(), effective, False, "Line one\nLine two\n",
                                   world.clock.now(), "operator:cli")
    assert published.notices == 0
    # Not yet in force: the initial version still is, until the effective date.
    assert world.policy.current().version == INITIAL_POLICY_VERSION  # type: ignore[union-attr]
    assert world.policy.current(datetime.combine(effective, datetime.min.time(), world.clock.now().tzinfo)) == stored
    assert [v.version for v in world.policy.versions()] == [INITIAL_POLICY_VERSION, effective.isoformat()]
    audit = world.store.state.audit[-1]
    assert (audit.action, audit.subject, audit.outcome) == ("policy.publish", f"policy:{effective}", "success")
    assert dict(audit.detail) == {"effective_date": effective.isoformat(), "material": "no",
                                  "characters": str(len("Line one\nLine two\n")), "notices": "0"}


def test_a_version_may_take_effect_today(world: World) -> None:
    world.policy.publish(OPERATOR, "today", TEXT, world.today, False)
    assert world.policy.current().version == "today"  # type: ignore[union-attr]


@pytest.mark.parametrize(("version", "text", "days", "field", "message"), [
    (None, TEXT, -1, "effective", "is in the past"),
    (None, "", 5, "text", "The policy text is empty"),
    (None, " \n\t\r\n ", 5, "text", "The policy text is empty"),
    (None, "abc\x00def", 5, "text", "NUL character"),
    (None, "x" * (MAX_POLICY_CHARS + 1), 5, "text", "the limit is 200,000"),
    ("", TEXT, 5, "version", "needs a label"),
    ("has space", TEXT, 5, "version", "is not valid"),
    ("../etc", TEXT, 5, "version", "is not valid"),
    ("x" * 33, TEXT, 5, "version", "is not valid"),
], ids=["past", "empty", "blank", "nul", "too-long", "empty-label", "space", "path", "long-label"])
def test_bad_input_is_refused_and_nothing_is_stored(world: World, version, text, days, field, message) -> None:
    world.person("bea@example.com")
    with pytest.raises(ValidationFailed, match=message) as caught:
        world.policy.publish(OPERATOR, version, text, world.today + timedelta(days=days), True)
    assert caught.value.field == field
    assert [v.version for v in world.policy.versions()] == [INITIAL_POLICY_VERSION]
    assert world.outbox() == []


def test_every_problem_is_reported_at_once(world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        world.policy.publish(OPERATOR, "bad label", "", world.today - timedelta(days=1), False)
    assert set(caught.value.by_field()) == {"version", "text", "effective"}


def test_a_duplicate_version_or_effective_date_is_a_conflict(world: World) -> None:
    effective = world.today + timedelta(days=7)
    world.policy.publish(OPERATOR, None, TEXT, effective, False)
    with pytest.raises(Conflict, match=f"Policy version {effective} exists already"):
        world.policy.publish(OPERATOR, None, TEXT, effective, True)
    with pytest.raises(Conflict, match="exists already"):
        world.policy.publish(OPERATOR, INITIAL_POLICY_VERSION, TEXT, effective + timedelta(days=1), False)
    with pytest.raises(Conflict, match=f"already takes effect on {effective}"):
        world.policy.publish(OPERATOR, "other-label", TEXT, effective, False)
    assert len(world.policy.versions()) == 2
    assert world.outbox() == []


def test_unknown_version_is_not_found(world: World) -> None:
    with pytest.raises(NotFound, match="no privacy policy version 'nope'"):
        world.policy.get("nope")


def test_wrong_types_are_refused(world: World) -> None:
    with pytest.raises(ValidationFailed, match="must be a date"):
        world.policy.publish(OPERATOR, None, TEXT, world.clock.now(), False)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed, match="true or false"):
        world.policy.publish(OPERATOR, None, TEXT, world.today, "yes")  # type: ignore[arg-type]


# -- notices ------------------------------------------------------------------------------------------


def test_a_material_change_queues_one_notice_per_open_account_in_its_language(world: World) -> None:
    en = world.person("ann@example.com", language="en")
    world.person("bo@example.com", role="designer", language="zh-Hans")
    world.person("chi@example.com", role="manufacturer", language="zh-Hant")
    closed = world.person("dan@example.com")
    world.accounts.close_account(world.accounts.actor_for(closed), closed.id)
    restricted = world.person("eve@example.com", language="zh-Hans")
    world.store.state.users[restricted.id] = attrs.evolve(restricted, status=UserStatus.RESTRICTED)
    admin = world.admin()  # operator-created accounts are told too

    effective = date(2027, 3, 4)
    published = world.policy.publish(OPERATOR, None, TEXT, effective, True)

    assert published.notices == 5
    queued = world.outbox()
    assert [m.notice.to_email for m in queued] == ["ada@example.com", "ann@example.com", "bo@example.com",
                                                  "chi@example.com", "eve@example.com"]
    assert all(m.notice.kind is NoticeKind.POLICY_CHANGED for m in queued)
    by_email = {m.notice.to_email: m for m in queued}
    assert by_email["ann@example.com"].notice.language == "en"
    assert by_email["bo@example.com"].notice.language == "zh-Hans"
    assert by_email["chi@example.com"].notice.language == "zh-Hant"
    assert by_email["ann@example.com"].dedupe_key == notice_dedupe_key("2027-03-04", en.id)
    assert by_email["ada@example.com"].dedupe_key == notice_dedupe_key("2027-03-04", admin.id)
    assert dict(by_email["ann@example.com"].notice.values) == {
        "name": "Ann", "effective_date": "4 March 2027", "url": "http://127.0.0.1:8000/legal/privacy/2027-03-04"}
    assert by_email["bo@example.com"].notice.values["effective_date"] == "2027年3月4日"

    subject, body = render(by_email["ann@example.com"].notice)
    assert subject == "Our privacy policy is changing on 4 March 2027"
    assert "http://127.0.0.1:8000/legal/privacy/2027-03-04" in body and "Hello Ann" in body
    subject, body = render(by_email["bo@example.com"].notice)
    assert subject == "我们的隐私政策将于 2027年3月4日 更新" and "隐私政策" in body
    subject, _ = render(by_email["chi@example.com"].notice)
    assert subject == "我們的私隱政策將於 2027年3月4日 更新"

    assert world.store.state.audit[-1].detail["notices"] == "5"


def test_a_change_that_is_not_material_sends_no_mail(world: World) -> None:
    world.person("ann@example.com")
    assert world.policy.publish(OPERATOR, None, TEXT, world.today + timedelta(days=3), False).notices == 0
    assert world.outbox() == []


def test_notices_go_in_batches_of_1000_and_each_person_gets_exactly_one(world: World, monkeypatch) -> None:
    monkeypatch.setattr(policy_module, "NOTICE_BATCH", 3)
    for i in range(7):
        world.person(f"p{i}@example.com")
    calls: list[int] = []
    original = Outbox.add_many

    def counting(self, messages):
        calls.append(len(messages))
        return original(self, messages)

    monkeypatch.setattr(Outbox, "add_many", counting)
    assert world.policy.publish(OPERATOR, None, TEXT, world.today + timedelta(days=3), True).notices == 7
    assert calls == [3, 3, 1]
    assert sorted(m.notice.to_email for m in world.outbox()) == [f"p{i}@example.com" for i in range(7)]
    assert NOTICE_BATCH == 1000


def test_the_version_and_its_notices_are_one_transaction(world: World, monkeypatch) -> None:
    world.person("ann@example.com")

    def broken(self, messages):
        raise RuntimeError("outbox down")

    monkeypatch.setattr(Outbox, "add_many", broken)
    with pytest.raises(RuntimeError):
        world.policy.publish(OPERATOR, None, TEXT, world.today + timedelta(days=3), True)
    assert [v.version for v in world.policy.versions()] == [INITIAL_POLICY_VERSION]
    assert "policy.publish" not in world.audit_actions()


# -- acknowledgement ----------------------------------------------------------------------------------


def test_acknowledgement_flow(world: World) -> None:
    ann = world.person("ann@example.com")
    assert not world.policy.needs_acknowledgement(ann)
    effective = world.today + timedelta(days=10)
    world.policy.publish(OPERATOR, None, TEXT, effective, True)
    # Announced, not yet in force: nothing to acknowledge yet.
    assert not world.policy.needs_acknowledgement(ann)
    world.clock.advance(timedelta(days=10))
    assert world.policy.needs_acknowledgement(ann)
    assert world.policy.pending_for(ann).version == effective.isoformat()  # type: ignore[union-attr]
    # Continued use does not silence a material change.
    standing = world.policy.standing(ann)
    assert standing.pending is not None and standing.recorded is None
    assert world.policy.needs_acknowledgement(ann)

    acceptance = world.policy.acknowledge(world.accounts.actor_for(ann))
    assert acceptance == PolicyAcceptance(ann.id, effective.isoformat(), world.clock.now())
    assert not world.policy.needs_acknowledgement(ann)
    assert world.policy.standing(ann).pending is None
    assert [(a.version, a.accepted_at) for a in world.store.state.acceptances if a.user_id == ann.id][-1] == \
        (effective.isoformat(), world.clock.now())
    audit = world.store.state.audit[-1]
    assert (audit.action, audit.actor, dict(audit.detail)) == (
        "policy.acknowledge", ann.id, {"version": effective.isoformat(), "material_change": effective.isoformat()})

    # Acknowledging again records nothing new.
    before = len(world.store.state.acceptances)
    assert world.policy.acknowledge(world.accounts.actor_for(ann)) == acceptance
    assert len(world.store.state.acceptances) == before


def test_people_who_joined_after_the_change_have_nothing_to_acknowledge(world: World) -> None:
    world.policy.publish(OPERATOR, None, TEXT, world.today, True)
    newcomer = world.person("new@example.com")  # accepted the material version at sign-up
    assert not world.policy.needs_acknowledgement(newcomer)


def test_a_later_minor_version_does_not_hide_an_unacknowledged_material_one(world: World) -> None:
    ann = world.person("ann@example.com")
    world.policy.publish(OPERATOR, "material", TEXT, world.today + timedelta(days=1), True)
    world.policy.publish(OPERATOR, "minor", TEXT, world.today + timedelta(days=2), False)
    world.clock.advance(timedelta(days=3))
    assert world.policy.pending_for(ann).version == "material"  # type: ignore[union-attr]
    assert world.policy.standing(ann).recorded is None  # continued use must not accept "minor" past it
    # Acknowledging accepts the version in force, which includes the material change.
    assert world.policy.acknowledge(world.accounts.actor_for(ann)).version == "minor"
    assert not world.policy.needs_acknowledgement(ann)


def test_only_a_signed_in_open_account_acknowledges(world: World) -> None:
    with pytest.raises(Unauthenticated):
        world.policy.acknowledge(Actor("ghost", Role.BUYER))
    ann = world.person("ann@example.com")
    world.accounts.close_account(world.accounts.actor_for(ann), ann.id)
    with pytest.raises(Unauthenticated):
        world.policy.acknowledge(world.accounts.actor_for(world.user(ann.id)))


def test_continued_use_after_a_minor_change_is_recorded_once(world: World) -> None:
    ann = world.person("ann@example.com")
    world.policy.publish(OPERATOR, "minor", TEXT, world.today + timedelta(days=1), False)
    assert world.policy.standing(ann).recorded is None  # not in force yet
    world.clock.advance(timedelta(days=1))
    standing = world.policy.standing(ann)
    assert standing.pending is None
    assert standing.recorded == PolicyAcceptance(ann.id, "minor", world.clock.now())
    assert world.audit_actions()[-1] == "policy.continued_use"
    assert world.policy.standing(ann).recorded is None  # once
    assert [a.version for a in world.store.state.acceptances if a.user_id == ann.id] == [
        INITIAL_POLICY_VERSION, "minor"]


def test_operator_created_accounts_accept_by_continued_use(world: World) -> None:
    admin = world.admin()
    assert world.store.state.acceptances == []
    assert world.policy.standing(admin).recorded is not None
    assert [(a.user_id, a.version) for a in world.store.state.acceptances] == [(admin.id, INITIAL_POLICY_VERSION)]


# -- the pure rules -----------------------------------------------------------------------------------


def v(label: str, day: int, material: bool = False) -> PolicyVersion:
    return PolicyVersion(label, date(2027, 1, day), material)


def at(day: int) -> datetime:
    return datetime(2027, 1, day, 12, 0, tzinfo=FakeClock().now().tzinfo)


def test_latest_accepted_goes_by_effective_date_not_by_time_of_acceptance() -> None:
    versions = [v("a", 1), v("b", 5), v("c", 9)]
    acc = [PolicyAcceptance("u", "c", at(10)), PolicyAcceptance("u", "a", at(11)),
           PolicyAcceptance("u", "zzz-unknown", at(12))]
    assert latest_accepted(versions, acc) == versions[2]
    assert latest_accepted(versions, []) is None


def test_pending_material_and_unrecorded_current() -> None:
    versions = [v("a", 1), v("m", 5, True), v("n", 9)]
    accepted_a = [PolicyAcceptance("u", "a", at(1))]
    assert pending_material(versions, accepted_a, at(4)) is None
    assert pending_material(versions, accepted_a, at(5)) == versions[1]
    assert pending_material(versions, accepted_a, at(10)) == versions[1]
    assert pending_material(versions, [PolicyAcceptance("u", "n", at(10))], at(10)) is None
    assert pending_material(versions, [], at(5)) == versions[1]
    assert unrecorded_current(versions, accepted_a, at(4)) is None
    assert unrecorded_current(versions, accepted_a, at(10)) is None  # material pending
    assert unrecorded_current(versions, [PolicyAcceptance("u", "m", at(6))], at(10)) == versions[2]
    assert unrecorded_current(versions, [], at(2)) == versions[0]


@pytest.mark.parametrize("label", ["2027-01-01", "v2", "2027.1", "a_b-c"])
def test_good_version_labels(label: str) -> None:
    assert check_version(f"  {label} ") == label


def test_text_is_normalised() -> None:
    assert clean_policy_text("\r\n A\r\nB\rC  \n\n") == "A\nB\nC\n"


@pytest.mark.parametrize(("language", "expected"), [("en", "4 March 2027"), ("zh-Hans", "2027年3月4日"),
                                                    ("zh-Hant", "2027年3月4日"), ("fr", "4 March 2027")])
def test_long_date(language: str, expected: str) -> None:
    assert long_date(date(2027, 3, 4), language) == expected


def test_the_fake_store_starts_with_the_initial_version_only() -> None:
    store = InMemoryStore()
    with store() as uow:
        assert [p.version for p in uow.policies.versions()] == [INITIAL_POLICY_VERSION]
