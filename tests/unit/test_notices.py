"""Issue #4: notification templates in the recipient's language, rendered strictly."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caratzon_core.accounts import Language
from caratzon_core.notices import (
    TEMPLATES,
    Notice,
    NoticeKind,
    message_id_for,
    new_messages_notice,
    placeholders,
    render,
)

VALUES = {
    "name": "Mei Lin",
    "counterparty": "Aurum Atelier",
    "design_title": "Lotus solitaire ring",
    "amount": "USD 1,250.00",
    "expires_at": "2026-12-01 09:00 UTC",
    "count": "3",
    "thread_title": "Lotus solitaire ring — sizing",
    "url": "https://caratzon.example/offers/42",
    "order_ref": "A1B2C3",
    "step": "shipped",
    "quantity": "12",
    "effective_date": "4 March 2027",  # policy changes (issue #6, part 5)
    # data-subject requests (issue #6, part 1)
    "code": "042917",
    "request_type": "erasure of your data",
    "reference": "9F3A21C0",
    "outcome": "Everything not kept by law was erased.",
    "reason": "We hold a legal duty to keep the invoices.",
}

HAN = re.compile(r"[\u4e00-\u9fff]")


def notice(kind: NoticeKind, language: str = "en", **values: str) -> Notice:
    return Notice(kind, "buyer@example.com", language, {**VALUES, **values})


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_kind_renders_in_every_language_with_no_leftover_braces(kind: NoticeKind, language: Language) -> None:
    subject, body = render(notice(kind, language))
    for text in (subject, body):
        assert "{" not in text and "}" not in text
    assert "\n" not in subject and subject
    assert VALUES["url"] in body
    assert VALUES["name"] in body
    if language is Language.EN:
        assert not HAN.search(subject + body)
    else:
        assert HAN.search(subject) and HAN.search(body)


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_language_asks_for_the_same_values(kind: NoticeKind) -> None:
    def needed(language: str) -> frozenset[str]:
        template = TEMPLATES[language][kind]
        return placeholders(template.subject) | placeholders(template.body)

    assert needed(Language.ZH_HANS) == needed(Language.EN) == needed(Language.ZH_HANT)


def test_simplified_and_traditional_chinese_differ() -> None:
    hans = render(notice(NoticeKind.OFFER_RECEIVED, Language.ZH_HANS))
    hant = render(notice(NoticeKind.OFFER_RECEIVED, Language.ZH_HANT))
    assert "设计" in hans[0] and "報價" in hant[0]
    assert hans != hant


def test_expiring_offer_names_the_deadline() -> None:
    for language in Language:
        _subject, body = render(notice(NoticeKind.OFFER_EXPIRING, language))
        assert VALUES["expires_at"] in body and VALUES["amount"] in body


def test_missing_placeholder_raises_value_error_naming_it() -> None:
    values = {k: v for k, v in VALUES.items() if k not in ("design_title", "url")}
    with pytest.raises(ValueError, match="design_title, url"):
        render(Notice(NoticeKind.OFFER_ACCEPTED, "a@example.com", "zh-Hans", values))


def test_extra_values_are_ignored() -> None:
    subject, _body = render(notice(NoticeKind.OFFER_REJECTED, unused="x"))
    assert subject == "Offer declined: Lotus solitaire ring"


def test_line_breaks_in_values_never_reach_the_subject() -> None:
    evil = "Ring\r\nBcc: victim@example.com\nX-Evil: 1\u2028more"
    subject, body = render(notice(NoticeKind.OFFER_RECEIVED, design_title=evil))
    assert "\r" not in subject and "\n" not in subject and "\u2028" not in subject
    assert subject == "New offer on Ring Bcc: victim@example.com X-Evil: 1 more"
    assert evil in body  # the body is text, not headers: it keeps what was given


@given(st.text())
def test_no_value_can_break_the_subject_line(title: str) -> None:
    subject, _body = render(notice(NoticeKind.NEW_MESSAGES, "zh-Hant", thread_title=title))
    assert not any(ch in subject for ch in "\r\n\x0b\x0c\x85\u2028\u2029")


def test_braces_in_values_are_kept_literally() -> None:
    subject, _ = render(notice(NoticeKind.OFFER_COUNTERED, design_title="Ring {size}"))
    assert subject == "Counter-offer on Ring {size}"


@pytest.mark.parametrize("language", ["fr", "de-DE", "", "zh"])
def test_unknown_language_falls_back_to_english(language: str) -> None:
    assert render(notice(NoticeKind.OFFER_ACCEPTED, language)) == render(notice(NoticeKind.OFFER_ACCEPTED, "en"))


def test_new_messages_is_one_batched_mail_with_count_and_thread() -> None:
    many = new_messages_notice(
        to_email="d@example.com", language="en", name="Ana", count=5, thread_title="Cuff", url="https://x/t/1"
    )
    assert render(many)[0] == "5 new messages in Cuff"
    one = new_messages_notice(
        to_email="d@example.com", language="en", name="Ana", count=1, thread_title="Cuff", url="https://x/t/1"
    )
    assert render(one)[0] == "New message in Cuff"
    hans = new_messages_notice(
        to_email="d@example.com", language="zh-Hans", name="安娜", count=2, thread_title="手镯", url="https://x"
    )
    assert render(hans)[0] == "“手镯”中有 2 条新消息"
    with pytest.raises(ValueError):
        new_messages_notice(to_email="d@example.com", language="en", name="Ana", count=0, thread_title="C", url="u")


def test_notice_values_must_be_strings_and_are_frozen() -> None:
    with pytest.raises(TypeError):
        Notice(NoticeKind.NEW_MESSAGES, "a@example.com", "en", {"count": 3})  # type: ignore[dict-item]
    source = dict(VALUES)
    n = Notice("offer_received", "a@example.com", "en", source)  # type: ignore[arg-type,unused-ignore]
    source["name"] = "changed"
    assert n.kind is NoticeKind.OFFER_RECEIVED and n.values["name"] == "Mei Lin"
    with pytest.raises(TypeError):
        n.values["name"] = "x"  # type: ignore[index]


def test_message_ids_are_deterministic_and_distinct() -> None:
    assert message_id_for("01JDX3") == message_id_for("01JDX3") == "<notice.01JDX3@caratzon.local>"
    assert message_id_for("01JDX3", domain="mail.caratzon.com") == "<notice.01JDX3@mail.caratzon.com>"
    assert message_id_for("a1") != message_id_for("a2")


@pytest.mark.parametrize("bad", ["", "a b", "a>b", "a@b", "x\r\nBcc: y", "-a"])
def test_message_id_rejects_ids_that_would_break_the_header(bad: str) -> None:
    with pytest.raises(ValueError):
        message_id_for(bad)
    with pytest.raises(ValueError):
        message_id_for("ok", domain=bad or "a..b")


def test_order_steps_read_in_each_language_and_fall_back_to_english() -> None:
    from caratzon_core.notices import ORDER_STEPS, order_step

    assert set(ORDER_STEPS["zh-Hans"]) == set(ORDER_STEPS["en"]) == set(ORDER_STEPS["zh-Hant"])
    assert order_step("order.shipped", "zh-Hans") == "已发货"
    assert order_step("order.shipped", "fr") == "shipped"
    assert order_step("order.unknown", "en") == "order.unknown"
