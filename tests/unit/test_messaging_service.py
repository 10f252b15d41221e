"""Issue #4 messaging with fakes: participants only (P6, P26), attachments through
the blob store with signed links (P27), read markers, translation per reader with
the original kept, never for people who object or are restricted (P18, P23, P38,
P40), support threads answered by admins (P16), batched new-message notices."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import attrs
import pytest

from caratzon_core.access import Actor
from caratzon_core.accounts import UserStatus
from caratzon_core.errors import Forbidden, NotFound, ValidationFailed
from caratzon_core.notices import NoticeKind
from caratzon_core.privacy import INITIAL_POLICY_VERSION
from caratzon_core.services.accounts import AccountChanges, AccountService, SignUp
from caratzon_core.services.designs import DesignInput, DesignService, Upload
from caratzon_core.services.licensing import LicensingService
from caratzon_core.services.messaging import NO_TRANSLATION, MessagingService
from caratzon_core.testing import FakeClock, fake_deps

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
TODAY = FakeClock().now().date()


@pytest.fixture
def world(tmp_path: Path):
    clock = FakeClock()
    deps, store = fake_deps(clock=clock)
    accounts = AccountService(deps)
    people = {}
    for role, email, language in [("designer", "dee@example.com", "en"), ("buyer", "bea@example.com", "zh-Hans"),
                                  ("buyer", "bob@example.com", "en")]:
        user = accounts.sign_up(SignUp(email=email, password="Emerald-Cut-Halo-2026",
                                       name=email.split("@")[0].title(), role=role, date_of_birth=date(1985, 1, 1),
                                       accept_policy_version=INITIAL_POLICY_VERSION, language=language))
        people[email.split("@")[0]] = accounts.actor_for(user)
    admin = accounts.create_user(Actor.cli_operator(), SignUp(
        email="ada@example.com", password="Emerald-Cut-Halo-2026", name="Ada", role="admin",
        date_of_birth=date(1980, 1, 1), accept_policy_version=INITIAL_POLICY_VERSION))
    people["ada"] = accounts.actor_for(admin)
    designs = DesignService(deps)
    design = designs.create(people["dee"], DesignInput(title="Halo ring", category="ring"))
    image = tmp_path / "front.png"
    image.write_bytes(PNG)
    designs.add_asset(people["dee"], design.id, Upload("front.png", image, "image"))
    designs.publish(people["dee"], design.id)
    licensing = LicensingService(deps)
    option = licensing.add_option(people["dee"], design.id, "Standard", {
        "use": "manufacturing", "territory": "worldwide", "term": {"start": TODAY.isoformat(), "months": 12},
        "fees": {"flat": {"amount": "1500", "currency": "USD"}}})
    neg = licensing.open(people["bea"], option.id)
    thread_id = licensing.negotiation(people["bea"], neg.id).thread_id
    return MessagingService(deps), deps, store, clock, people, thread_id, tmp_path


def file(tmp: Path, name: str, data: bytes) -> Upload:
    path = tmp / f"att-{len(list(tmp.iterdir()))}"
    path.write_bytes(data)
    return Upload(filename=name, path=path, kind="image")


def test_each_reader_sees_their_language_with_the_original_one_click_away(world) -> None:
    messaging, deps, _, _, p, thread_id, _ = world
    messaging.post(p["dee"], thread_id, "Can you confirm the ring size?")
    view = messaging.read(p["bea"], thread_id)
    [msg] = [m for m in view.messages if m.message.kind.value == "text"]
    assert msg.translated and msg.text == "[zh-Hans] Can you confirm the ring size?"
    assert msg.original == "Can you confirm the ring size?"
    # Cached per message and language: reading again does not call the AI port again.
    calls = len(deps.ai.calls)
    messaging.read(p["bea"], thread_id)
    assert len(deps.ai.calls) == calls
    # The author reads their own words as written, without any AI call.
    mine = [m for m in messaging.read(p["dee"], thread_id).messages if m.mine]
    assert mine[0].text == mine[0].original and not mine[0].translated and len(deps.ai.calls) == calls


def test_no_text_of_an_objecting_or_restricted_person_ever_reaches_the_ai_port(world) -> None:
    messaging, deps, store, _, p, thread_id, _ = world
    accounts = AccountService(deps)
    objected = accounts.update_account(p["dee"], p["dee"].id, AccountChanges(object_to_ai=True))
    assert objected.ai_objection_at == deps.clock.now()
    messaging.post(p["dee"], thread_id, "Private remark about casting")
    view = messaging.read(p["bea"], thread_id)
    [msg] = [m for m in view.messages if m.message.kind.value == "text"]
    assert not msg.translated and msg.text == "Private remark about casting" and "asked" in msg.note
    assert all("Private remark" not in text for text, *_ in deps.ai.calls)
    # A restricted reader is not translated for either.
    assert accounts.update_account(p["dee"], p["dee"].id, AccountChanges(object_to_ai=False)).ai_objection_at is None
    bea = store.state.users[p["bea"].id]
    store.state.users[bea.id] = attrs.evolve(bea, status=UserStatus.RESTRICTED)
    messaging.post(p["dee"], thread_id, "Second remark")
    messaging.read(p["bea"], thread_id)
    assert all("remark" not in text for text, *_ in deps.ai.calls)


def test_without_a_translation_service_the_original_is_shown_marked_not_translated(world) -> None:
    messaging, deps, _, _, p, thread_id, _ = world
    offline = MessagingService(attrs.evolve(deps, ai=None))
    messaging.post(p["dee"], thread_id, "Hello")
    [msg] = [m for m in offline.read(p["bea"], thread_id).messages if m.message.kind.value == "text"]
    assert msg.text == "Hello" and not msg.translated and msg.note == NO_TRANSLATION
    deps.ai.fail = True
    messaging.post(p["dee"], thread_id, "Again")
    texts = [m for m in messaging.read(p["bea"], thread_id).messages if m.original == "Again"]
    assert texts[0].text == "Again" and "unavailable" in texts[0].note


def test_only_participants_read_or_write_and_admins_only_join_support(world) -> None:
    messaging, _, store, _, p, thread_id, _ = world
    for outsider in ("bob", "ada"):
        with pytest.raises(Forbidden, match="participants"):
            messaging.read(p[outsider], thread_id)
        with pytest.raises(Forbidden):
            messaging.post(p[outsider], thread_id, "let me in")
    with pytest.raises(NotFound):
        messaging.read(p["bea"], "no-such-thread")
    support = messaging.open_support(p["bob"], "Invoice question", "Where is my invoice?")
    [queued] = messaging.support_threads(p["ada"])
    assert queued.thread.id == support.id and queued.awaiting_answer
    messaging.post(p["ada"], support.id, "It is on the agreements page.")
    assert not messaging.support_threads(p["ada"])[0].awaiting_answer
    assert p["ada"].id in store.state.trade.threads[support.id].participants  # joined by answering
    with pytest.raises(Forbidden):
        messaging.read(p["bea"], support.id)
    assert messaging.support_threads(p["bea"]) == []
    with pytest.raises(ValidationFailed) as err:
        messaging.open_support(p["bob"], "", "", topic="complaint")
    assert {"title", "body", "topic"} <= set(err.value.by_field())


def test_attachments_go_through_the_blob_store_and_bad_ones_leave_nothing(world) -> None:
    messaging, deps, store, _, p, thread_id, tmp = world
    message = messaging.post(p["bea"], thread_id, "Reference photo", [file(tmp, "ref.png", PNG),
                                                                       file(tmp, "spec.pdf", b"%PDF-1.7 ...")])
    assert [a.content_type for a in message.attachments] == ["image/png", "application/pdf"]
    link = messaging.attachment_link(p["dee"], message.attachments[0].id)
    assert link.expires_at <= deps.clock.now() + deps.settings.link_ttl
    with pytest.raises(Forbidden):
        messaging.attachment_link(p["bob"], message.attachments[0].id)
    blobs_before = set(deps.blobs.blobs)
    assert len([k for k in blobs_before if k.startswith("threads/")]) == 2  # the two attachments
    with pytest.raises(ValidationFailed, match="not a PDF"):
        messaging.post(p["bea"], thread_id, "bad", [file(tmp, "fake.pdf", b"MZ\x90\x00")])
    with pytest.raises(ValidationFailed):
        messaging.post(p["bea"], thread_id, "bad", [file(tmp, "tool.exe", b"MZ")])
    with pytest.raises(ValidationFailed):  # an image that isn't one: judged by bytes
        messaging.post(p["bea"], thread_id, "bad", [file(tmp, "photo.png", b"GIF89a....")])
    # The store fails on the second file: the first is deleted again, no row is written.
    real_put, calls = deps.blobs.put, []

    def flaky_put(key, stream, **kw):
        calls.append(key)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_put(key, stream, **kw)

    deps.blobs.put = flaky_put
    with pytest.raises(OSError):
        messaging.post(p["bea"], thread_id, "bad", [file(tmp, "a.png", PNG), file(tmp, "b.png", PNG)])
    assert set(deps.blobs.blobs) == blobs_before
    assert store.state.pending_blobs == {}
    assert sum(1 for m in store.state.trade.messages if m.body == "bad") == 0


def test_read_markers_and_one_batched_mail_once_a_thread_goes_quiet(world) -> None:
    messaging, deps, store, clock, p, thread_id, _ = world
    for text in ("one", "two", "three"):
        messaging.post(p["dee"], thread_id, text)
        clock.advance(timedelta(minutes=1))
    assert {s.thread.id: s.unread for s in messaging.threads(p["bea"])}[thread_id] == 3
    worker = Actor.cli_operator()
    assert messaging.enqueue_digests(worker).enqueued == 0  # not quiet yet
    clock.advance(timedelta(minutes=10))
    assert messaging.enqueue_digests(worker).enqueued == 1
    assert messaging.enqueue_digests(worker).enqueued == 0  # told once
    [mail] = [m for m in store.state.trade.outbox.values() if m.notice.kind is NoticeKind.NEW_MESSAGES]
    assert mail.notice.to_email == "bea@example.com" and mail.notice.values["count"] == "3"
    messaging.read(p["bea"], thread_id)
    assert {s.thread.id: s.unread for s in messaging.threads(p["bea"])}.get(thread_id, 0) == 0
    # A message after reading is a new batch of one.
    messaging.post(p["dee"], thread_id, "four")
    clock.advance(timedelta(minutes=11))
    assert messaging.enqueue_digests(worker).enqueued == 1
    with pytest.raises(Forbidden):
        messaging.enqueue_digests(p["dee"])


def test_message_text_is_checked(world) -> None:
    messaging, _, _, _, p, thread_id, _ = world
    for bad in ("", "   ", "x" * 10_001, "bell\x07"):
        with pytest.raises(ValidationFailed):
            messaging.post(p["bea"], thread_id, bad)
