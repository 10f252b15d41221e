"""Issue #6, parts 1 and 7, with fakes: data-subject requests (P35-P42) and reported
minors (P45). Due in 30 days, overdue flagged, duplicates merged, restriction,
objection and withdrawal of consent effective at once, the admins' queue (take,
complete, refuse with a reason; the person is mailed), codes that prove control of
the email (expiry, tries, one use, bound to a type), requests about someone else's
data refused, every step audited."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from caratzon_core.access import Actor
from caratzon_core.accounts import UserStatus
from caratzon_core.errors import Conflict, Forbidden, NotFound, Throttled, ValidationFailed
from caratzon_core.messaging import ai_allowed
from caratzon_core.notices import NoticeKind, render
from caratzon_core.privacy import INITIAL_POLICY_VERSION
from caratzon_core.requests import (
    CODE_MAX_TRIES,
    CODE_TTL,
    CODES_PER_HOUR,
    PLATFORM,
    Origin,
    RequestStatus,
    RequestType,
    code_purpose,
)
from caratzon_core.services.accounts import AccountService, SignUp
from caratzon_core.services.designs import DesignInput, DesignService, Upload
from caratzon_core.services.engagement import EngagementService
from caratzon_core.services.requests import RequestService
from caratzon_core.testing import FakeClock, fake_deps

PASSWORD = "Emerald-Cut-Halo-2026"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
VISITOR = "visitor-abcdefghijklmnop"


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.clock = FakeClock()
        self.deps, self.store = fake_deps(clock=self.clock)
        self.accounts = AccountService(self.deps)
        self.requests = RequestService(self.deps)
        self.engagement = EngagementService(self.deps)
        self.people: dict[str, Actor] = {}
        for name, role, language in (("bea", "buyer", "en"), ("dee", "designer", "zh-Hans"),
                                     ("bob", "buyer", "zh-Hant")):
            user = self.accounts.sign_up(SignUp(
                email=f"{name}@example.com", password=PASSWORD, name=name.title(), role=role,
                date_of_birth=date(1985, 1, 1), accept_policy_version=INITIAL_POLICY_VERSION, language=language))
            self.people[name] = self.accounts.actor_for(user)
        for name in ("ann", "amy"):
            user = self.accounts.create_user(Actor.cli_operator(), SignUp(
                email=f"{name}@example.com", password=PASSWORD, name=name.title(), role="admin"))
            self.people[name] = self.accounts.actor_for(user)
        designs = DesignService(self.deps)
        design = designs.create(self.people["dee"], DesignInput(title="Halo ring", category="ring"))
        image = tmp_path / "front.png"
        image.write_bytes(PNG)
        designs.add_asset(self.people["dee"], design.id, Upload("front.png", image, "image"))
        self.design = designs.publish(self.people["dee"], design.id)

    def actor(self, name: str) -> Actor:
        """The person as they are now (their status may have changed)."""
        return self.accounts.actor_for(self.user(name))

    def user(self, name: str):  # type: ignore[no-untyped-def]
        return self.store.state.users[self.people[name].id]

    def mails(self, kind: NoticeKind | None = None, to: str | None = None) -> list:  # type: ignore[type-arg]
        found = sorted(self.store.state.trade.outbox.values(), key=lambda m: (m.created_at, m.id))
        return [m.notice for m in found if (kind is None or m.notice.kind is kind)
                and (to is None or m.notice.to_email == f"{to}@example.com")]

    def audit(self, prefix: str = "") -> list[tuple[str, str, str]]:
        return [(e.action, e.actor, e.outcome) for e in self.store.state.audit if e.action.startswith(prefix)]

    def last_code(self, name: str) -> str:
        return self.mails(NoticeKind.REQUEST_CODE, name)[-1].values["code"]


@pytest.fixture
def w(tmp_path: Path) -> World:
    return World(tmp_path)


# -- opening, due dates, merging ----------------------------------------------------------------


def test_a_request_is_due_30_days_after_receipt_and_a_second_one_is_merged(w: World) -> None:
    opened = w.requests.open(w.people["bea"], "access", details="Everything you hold, please.")
    req = opened.request
    assert not opened.merged and req.status is RequestStatus.RECEIVED and req.origin is Origin.SELF
    assert req.received_at == w.clock.now() and req.due_at == w.clock.now() + timedelta(days=30)
    assert "sends you a link to your data export" in req.notes[0].text and "Due by" in req.notes[0].text
    w.clock.advance(timedelta(days=3))
    again = w.requests.open(w.people["bea"], "access", details="Also my messages.")
    assert again.merged and again.request.id == req.id and again.request.merged == 1
    assert again.request.due_at == req.due_at  # still owed from the first receipt
    assert "merged" in again.request.notes[-1].text and "Also my messages." in again.request.notes[-1].text
    assert [r.id for r in w.requests.mine(w.people["bea"])] == [req.id]  # never duplicated
    # Another type is its own request; so is the same type for another person.
    other = w.requests.open(w.people["bea"], "portability").request
    theirs = w.requests.open(w.people["bob"], "access").request
    assert len({req.id, other.id, theirs.id}) == 3
    assert ("dsr.open", w.people["bea"].id, "success") in w.audit("dsr.")
    assert ("dsr.merge", w.people["bea"].id, "success") in w.audit("dsr.")


@pytest.mark.parametrize("kind", list(RequestType))
def test_every_right_can_be_asked_for(w: World, kind: RequestType) -> None:
    req = w.requests.open(w.people["bea"], kind.value).request
    assert req.type is kind
    expected = RequestStatus.COMPLETED if kind in (RequestType.RESTRICTION, RequestType.OBJECTION,
                                                   RequestType.WITHDRAW_CONSENT) else RequestStatus.RECEIVED
    assert req.status is expected


def test_unknown_types_and_over_long_details_are_refused_with_nothing_stored(w: World) -> None:
    with pytest.raises(ValidationFailed, match="expected one of") as caught:
        w.requests.open(w.people["bea"], "forget-me-not")
    assert caught.value.field == "type"
    with pytest.raises(ValidationFailed) as caught:
        w.requests.open(w.people["bea"], "access", details="x" * 2001)
    assert caught.value.field == "details"
    assert w.store.state.requests.requests == {}


def test_overdue_requests_are_flagged_and_listed_first_after_reported_minors(w: World) -> None:
    old = w.requests.open(w.people["bea"], "erasure").request
    w.clock.advance(timedelta(days=10))
    newer = w.requests.open(w.people["bob"], "access").request
    w.clock.advance(timedelta(days=20, seconds=1))  # bea's is now 30 days and a second old
    queue = w.requests.queue(w.people["ann"])
    assert [(v.request.id, v.overdue) for v in queue] == [(old.id, True), (newer.id, False)]
    assert queue[0].days_left == -1 and queue[1].days_left == 10  # 9 days and a part
    assert queue[0].email == "bea@example.com" and len(queue[0].ref) == 8
    assert [v.request.id for v in w.requests.queue(w.people["ann"], overdue_only=True)] == [old.id]
    assert w.requests.get(w.people["bea"], old.id).overdue


# -- immediate effects ----------------------------------------------------------------------------


def test_restriction_takes_effect_at_once_and_the_request_completes_with_the_effect_noted(w: World) -> None:
    w.engagement.choose(VISITOR, w.user("bea"), analytics=True)
    assert w.engagement.record(VISITOR, w.user("bea"), w.design.id, "view")
    req = w.requests.open(w.people["bea"], "restriction").request
    bea = w.user("bea")
    assert bea.status is UserStatus.RESTRICTED
    assert not ai_allowed(bea)
    assert not w.engagement.record(VISITOR, bea, w.design.id, "view")  # analytics skip restricted users
    assert req.status is RequestStatus.COMPLETED and req.handled_by == PLATFORM
    assert "restricted" in (req.outcome or "") and req.closed_at == w.clock.now()
    [mail] = w.mails(NoticeKind.REQUEST_COMPLETED, "bea")
    assert "restriction" in mail.values["request_type"] and mail.values["outcome"] == req.outcome
    assert [a for a, _, _ in w.audit() if a in ("dsr.open", "dsr.take", "dsr.complete", "account.restrict")] == [
        "dsr.open", "dsr.take", "account.restrict", "dsr.complete"]
    # A restricted person keeps every right, and a second restriction changes nothing.
    again = w.requests.open(w.actor("bea"), "restriction").request
    assert again.id != req.id and "already restricted" in (again.outcome or "")
    assert w.requests.open(w.actor("bea"), "access").request.status is RequestStatus.RECEIVED


def test_objection_stops_ai_and_analytics_at_once(w: World) -> None:
    w.engagement.choose(VISITOR, w.user("dee"), analytics=True)
    req = w.requests.open(w.people["dee"], "objection").request
    dee = w.user("dee")
    assert dee.ai_objection_at == w.clock.now() and dee.status is UserStatus.ACTIVE
    assert not ai_allowed(dee)
    consent = w.engagement.current(VISITOR, dee)
    assert consent is not None and not consent.analytics and consent.visitor_id == VISITOR
    assert req.status is RequestStatus.COMPLETED and "AI" in (req.outcome or "")
    [mail] = w.mails(NoticeKind.REQUEST_COMPLETED, "dee")
    subject, body = render(mail)
    assert "已完成" in subject and "反对处理" in body  # in her language (Simplified Chinese)


def test_withdrawing_consent_records_a_no_that_stops_analytics_from_the_next_request(w: World) -> None:
    w.engagement.choose(VISITOR, w.user("bea"), analytics=True)
    assert w.engagement.record(VISITOR, w.user("bea"), w.design.id, "view")
    req = w.requests.open(w.people["bea"], "withdraw_consent").request
    assert req.status is RequestStatus.COMPLETED and "withdrawn" in (req.outcome or "")
    assert not w.engagement.record(VISITOR, w.user("bea"), w.design.id, "view")
    assert w.user("bea").status is UserStatus.ACTIVE  # nothing else changes
    assert ("consent.analytics", w.people["bea"].id, "success") in w.audit("consent.")
    # With no choice on file the "no" is recorded all the same.
    fresh = w.requests.open(w.people["bob"], "withdraw_consent").request
    record = w.engagement.current(None, w.user("bob"))
    assert record is not None and not record.analytics and fresh.id in record.visitor_id


# -- someone else's data --------------------------------------------------------------------------


def test_requests_about_someone_elses_data_are_refused_and_audited(w: World) -> None:
    with pytest.raises(Forbidden, match="your own data"):
        w.requests.open(w.people["bob"], "erasure", user_id=w.people["bea"].id)
    with pytest.raises(Forbidden, match="proves control of their email"):
        w.requests.open(w.people["ann"], "erasure", user_id=w.people["bea"].id)
    with pytest.raises(Forbidden):
        w.requests.send_code(w.people["bob"], "bea@example.com", "access")
    with pytest.raises(Forbidden):
        w.requests.get(w.people["bob"], w.requests.open(w.people["bea"], "access").request.id)
    assert w.store.state.requests.codes == {}
    assert [r.user_id for r in w.store.state.requests.requests.values()] == [w.people["bea"].id]
    denied = [(a, who) for a, who, outcome in w.audit() if outcome == "denied"]
    assert ("dsr.open", w.people["bob"].id) in denied and ("dsr.open", w.people["ann"].id) in denied
    # Asking with one's own id is fine.
    assert w.requests.open(w.people["bob"], "access", user_id=w.people["bob"].id).request.user_id == \
        w.people["bob"].id


# -- the admins' queue -----------------------------------------------------------------------------


def test_admins_take_complete_and_refuse_and_the_person_is_told_by_mail(w: World) -> None:
    access = w.requests.open(w.people["bob"], "access").request
    erasure = w.requests.open(w.people["bob"], "erasure").request
    taken = w.requests.take(w.people["ann"], access.id)
    assert taken.status is RequestStatus.IN_PROGRESS and taken.handled_by == w.people["ann"].id
    with pytest.raises(Conflict, match="already in progress"):
        w.requests.take(w.people["amy"], access.id)
    done = w.requests.complete(w.people["ann"], access.id, "The export was sent to you on 3 December.")
    assert done.status is RequestStatus.COMPLETED and done.outcome == "The export was sent to you on 3 December."
    with pytest.raises(ValidationFailed, match="why") as caught:
        w.requests.refuse(w.people["amy"], erasure.id, "   ")
    assert caught.value.field == "reason"
    refused = w.requests.refuse(w.people["amy"], erasure.id, "Open orders must be kept until delivered.")
    assert refused.status is RequestStatus.REFUSED and refused.handled_by == w.people["amy"].id  # taken on the way
    [completed] = w.mails(NoticeKind.REQUEST_COMPLETED, "bob")
    [refusal] = w.mails(NoticeKind.REQUEST_REFUSED, "bob")
    subject, body = render(refusal)
    assert "未獲受理" in subject and "Open orders must be kept until delivered." in body  # Traditional Chinese
    assert render(completed)[1].count("The export was sent to you on 3 December.") == 1
    # Closed requests never change again.
    for attempt in (lambda: w.requests.take(w.people["ann"], access.id),
                    lambda: w.requests.complete(w.people["ann"], erasure.id),
                    lambda: w.requests.refuse(w.people["ann"], access.id, "Changed my mind.")):
        with pytest.raises(Conflict, match="already"):
            attempt()
    assert [a for a, _, o in w.audit("dsr.") if o == "success"] == [
        "dsr.open", "dsr.open", "dsr.take", "dsr.complete", "dsr.take", "dsr.refuse"]
    with pytest.raises(NotFound):
        w.requests.complete(w.people["ann"], "no-such-request")


def test_only_admins_work_the_queue(w: World) -> None:
    req = w.requests.open(w.people["bea"], "access").request
    for name in ("bea", "dee", "bob"):
        with pytest.raises(Forbidden):
            w.requests.queue(w.people[name])
        with pytest.raises(Forbidden):
            w.requests.take(w.people[name], req.id)
        with pytest.raises(Forbidden):
            w.requests.complete(w.people[name], req.id)
    assert w.store.state.requests.requests[req.id].status is RequestStatus.RECEIVED
    assert w.requests.queue(Actor.cli_operator())[0].request.id == req.id


# -- opening on someone's behalf: the emailed code ---------------------------------------------------


def test_an_admin_opens_on_someones_behalf_with_the_code_from_their_mail(w: World) -> None:
    sent = w.requests.send_code(w.people["ann"], "Bea@Example.com", "erasure")
    assert sent.email == "bea@example.com" and sent.expires_at == w.clock.now() + CODE_TTL
    [mail] = w.mails(NoticeKind.REQUEST_CODE, "bea")
    code = mail.values["code"]
    assert len(code) == 6 and code.isdigit() and code in render(mail)[1]
    [record] = w.store.state.requests.codes.values()
    assert code not in record.digest and code not in repr(record) and record.purpose == code_purpose(
        RequestType.ERASURE)
    opened = w.requests.open_verified(w.people["ann"], "bea@example.com", "erasure", f"{code[:3]} {code[3:]}",
                                      details="Asked by phone")
    req = opened.request
    assert req.origin is Origin.VERIFIED and req.opened_by == w.people["ann"].id and req.user_id == w.people["bea"].id
    assert req.status is RequestStatus.RECEIVED and req.details == "Asked by phone"
    with pytest.raises(ValidationFailed, match="used already"):
        w.requests.open_verified(w.people["ann"], "bea@example.com", "erasure", code)
    assert [a for a, _, _ in w.audit("dsr.")] == ["dsr.code_sent", "dsr.open", "dsr.code_check"]
    # The audit trail never holds the code.
    assert all(code not in str(e.detail) for e in w.store.state.audit)


def test_a_verified_restriction_takes_effect_at_once(w: World) -> None:
    w.requests.send_code(w.people["ann"], "dee@example.com", "restriction")
    code = w.last_code("dee")
    req = w.requests.open_verified(w.people["ann"], "dee@example.com", "restriction", code).request
    assert req.status is RequestStatus.COMPLETED and w.user("dee").status is UserStatus.RESTRICTED


def test_a_code_expires_after_15_minutes(w: World) -> None:
    w.requests.send_code(w.people["ann"], "bea@example.com", "access")
    code = w.last_code("bea")
    w.clock.advance(CODE_TTL)
    with pytest.raises(ValidationFailed, match="expired") as caught:
        w.requests.open_verified(w.people["ann"], "bea@example.com", "access", code)
    assert caught.value.field == "code"
    assert w.store.state.requests.requests == {}
    assert ("dsr.code_check", w.people["ann"].id, "failure") in w.audit()


def test_five_wrong_tries_burn_the_code_and_each_try_is_counted(w: World) -> None:
    w.requests.send_code(w.people["ann"], "bea@example.com", "access")
    code = w.last_code("bea")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in range(CODE_MAX_TRIES - 1, -1, -1):
        with pytest.raises(ValidationFailed, match="not correct") as caught:
            w.requests.open_verified(w.people["ann"], "bea@example.com", "access", wrong)
        assert (f"{left} tr" in caught.value.message) if left else ("last try" in caught.value.message)
    [record] = w.store.state.requests.codes.values()
    assert record.attempts == CODE_MAX_TRIES and record.used_at is None
    with pytest.raises(ValidationFailed, match="Too many"):
        w.requests.open_verified(w.people["ann"], "bea@example.com", "access", code)
    assert w.store.state.requests.requests == {}
    # A new code starts afresh.
    w.requests.send_code(w.people["ann"], "bea@example.com", "access")
    assert w.requests.open_verified(w.people["ann"], "bea@example.com", "access",
                                    w.last_code("bea")).request.type is RequestType.ACCESS


def test_a_code_opens_only_its_own_type_and_a_new_code_replaces_the_old(w: World) -> None:
    with pytest.raises(ValidationFailed, match="No code was sent"):
        w.requests.open_verified(w.people["ann"], "bea@example.com", "access", "123456")
    w.requests.send_code(w.people["ann"], "bea@example.com", "access")
    first = w.last_code("bea")
    with pytest.raises(ValidationFailed, match="No code was sent"):
        w.requests.open_verified(w.people["ann"], "bea@example.com", "erasure", first)
    w.requests.send_code(w.people["ann"], "bea@example.com", "access")
    second = w.last_code("bea")
    if first != second:  # one in a million they are equal
        with pytest.raises(ValidationFailed, match="not correct"):
            w.requests.open_verified(w.people["ann"], "bea@example.com", "access", first)
    assert w.requests.open_verified(w.people["ann"], "bea@example.com", "access", second).request
    for bad in ("12345", "1234567", "abcdef", "", "\uff11\uff12\uff13\uff14\uff15\uff16"):
        with pytest.raises(ValidationFailed, match="6 digits"):
            w.requests.open_verified(w.people["ann"], "bea@example.com", "access", bad)
    with pytest.raises(NotFound):
        w.requests.send_code(w.people["ann"], "nobody@example.com", "access")


def test_codes_are_limited_per_account_and_hour(w: World) -> None:
    for _ in range(CODES_PER_HOUR):
        w.requests.send_code(w.people["ann"], "bea@example.com", "access")
        w.clock.advance(timedelta(minutes=1))
    with pytest.raises(Throttled) as caught:
        w.requests.send_code(w.people["amy"], "bea@example.com", "erasure")
    assert caught.value.retry_at == w.clock.now() - timedelta(minutes=CODES_PER_HOUR) + timedelta(hours=1)
    assert len(w.mails(NoticeKind.REQUEST_CODE, "bea")) == CODES_PER_HOUR
    w.requests.send_code(w.people["ann"], "bob@example.com", "access")  # other people are not held up
    w.clock.set(caught.value.retry_at)
    w.requests.send_code(w.people["ann"], "bea@example.com", "access")


def test_a_closed_account_still_gets_its_code_and_its_answer(w: World) -> None:
    w.accounts.close_account(w.people["bea"], w.people["bea"].id)
    w.requests.send_code(w.people["ann"], "bea@example.com", "access")
    req = w.requests.open_verified(w.people["ann"], "bea@example.com", "access", w.last_code("bea")).request
    w.requests.complete(w.people["ann"], req.id, "Sent.")
    assert w.mails(NoticeKind.REQUEST_COMPLETED, "bea")


# -- children (part 7) ----------------------------------------------------------------------------


def test_a_reported_minor_is_restricted_at_once_and_queued_for_urgent_erasure(w: World) -> None:
    w.requests.open(w.people["bea"], "access")
    w.clock.advance(timedelta(days=1))
    opened = w.requests.flag_minor(w.people["ann"], "bob@example.com", "His school wrote to us: he is 15.")
    req = opened.request
    assert w.user("bob").status is UserStatus.RESTRICTED and not ai_allowed(w.user("bob"))
    assert req.type is RequestType.ERASURE and req.origin is Origin.MINOR_REPORT and req.urgent
    assert req.status is RequestStatus.RECEIVED and "he is 15" in req.details
    assert w.requests.queue(w.people["amy"])[0].request.id == req.id  # before older requests
    actions = [a for a, who, _ in w.audit() if who == w.people["ann"].id]
    assert actions[-3:] == ["dsr.open", "account.restrict", "user.flag_minor"]
    # Flagging again merges; a pending self-made erasure request becomes urgent too.
    again = w.requests.flag_minor(w.people["amy"], "bob@example.com", "A second report.")
    assert again.merged and again.request.id == req.id
    own = w.requests.open(w.people["bea"], "erasure").request
    assert not own.urgent
    assert w.requests.flag_minor(w.people["ann"], "bea@example.com", "Reported by a parent.").request.urgent
    with pytest.raises(ValidationFailed, match="what was reported"):
        w.requests.flag_minor(w.people["ann"], "dee@example.com", "")
    with pytest.raises(Forbidden):
        w.requests.flag_minor(w.people["bea"], "dee@example.com", "Looks young.")
    with pytest.raises(Conflict, match="own account"):
        w.requests.flag_minor(w.people["ann"], "ann@example.com", "Testing.")
    assert w.user("dee").status is UserStatus.ACTIVE
