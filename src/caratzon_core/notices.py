"""Notification e-mails (issue #4): what we tell people, in their own language.

A :class:`Notice` is the value the outbox stores: which kind of notice, to whom,
in which language, and the values its template needs. :func:`render` turns it
into a subject and a plain-text body from :data:`TEMPLATES` (English, Simplified
and Traditional Chinese); a language we have no templates for falls back to
English. Rendering is strict: every placeholder a template names must be
provided, or :class:`ValueError` names the missing ones, so a half-filled mail
is never sent. Values are single-lined in the subject (no header injection).

:func:`message_id_for` derives the Message-ID from the outbox row's id, so a
retried delivery carries the same Message-ID and receivers can de-duplicate.

Pure: standard library and attrs only.
"""

# Chinese text uses full-width commas and colons, which are correct there, not typos.
# ruff: noqa: RUF001

from __future__ import annotations

import enum
import re
import string
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Self

from attrs import field, frozen

from caratzon_core.accounts import Language


class NoticeKind(enum.StrEnum):
    OFFER_RECEIVED = "offer_received"
    OFFER_COUNTERED = "offer_countered"
    OFFER_ACCEPTED = "offer_accepted"
    OFFER_REJECTED = "offer_rejected"
    OFFER_EXPIRING = "offer_expiring"
    NEW_MESSAGES = "new_messages"
    NEGOTIATION_WITHDRAWN = "negotiation_withdrawn"
    NEGOTIATION_EXPIRED = "negotiation_expired"
    ORDER_UPDATE = "order_update"
    AGREEMENT_CONCLUDED = "agreement_concluded"  # to the party who accepted
    JOB_OFFERED = "job_offered"
    POLICY_CHANGED = "policy_changed"  # a material privacy-policy change (P46)
    # Data-subject requests (issue #6, part 1): the code that proves control of the
    # email, and the answer (P42). They take {request_type} (already in the reader's
    # language), {code} or {reference} with {outcome} / {reason}, and {url}.
    REQUEST_CODE = "request_code"
    REQUEST_COMPLETED = "request_completed"
    REQUEST_REFUSED = "request_refused"


def _frozen_values(values: Mapping[str, str]) -> Mapping[str, str]:
    for key, value in values.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"notice values must be strings, got {key!r}: {type(value).__name__}")
    return MappingProxyType(dict(values))


@frozen
class Notice:
    """One e-mail to send. ``language`` is a :class:`Language` value; any other
    string renders in English."""

    kind: NoticeKind = field(converter=NoticeKind)
    to_email: str
    language: str
    values: Mapping[str, str] = field(converter=_frozen_values, hash=False)

    def __deepcopy__(self, memo: dict[int, object]) -> Self:
        return self  # immutable (its mapping is a read-only proxy, which cannot be copied)


@frozen
class Template:
    subject: str
    body: str


# -- templates -------------------------------------------------------------------------
# Every kind takes {name} (the recipient) and {url}; offers also take {counterparty},
# {design_title} and {amount} (already formatted with its currency); an expiring offer
# takes {expires_at} (already formatted for the reader); new messages take {count} and
# {thread_title}; a policy change takes {effective_date} (already formatted for the
# reader) and {url} (the new version's page). English has a singular form for one new message, looked up as
# "<kind>.one" when {count} is "1".

_EN_SIGN = "\n\n— Caratzon"
_HANS_SIGN = "\n\n— Caratzon 团队"
_HANT_SIGN = "\n\n— Caratzon 團隊"

TEMPLATES: Mapping[str, Mapping[str, Template]] = {
    Language.EN: {
        NoticeKind.OFFER_RECEIVED: Template(
            "New offer on {design_title}",
            "Hello {name},\n\n{counterparty} has offered {amount} for your design “{design_title}”.\n\n"
            "Review it, then accept, counter or decline:\n{url}" + _EN_SIGN,
        ),
        NoticeKind.OFFER_COUNTERED: Template(
            "Counter-offer on {design_title}",
            "Hello {name},\n\n{counterparty} has made a counter-offer of {amount} for “{design_title}”.\n\n"
            "Review the counter-offer:\n{url}" + _EN_SIGN,
        ),
        NoticeKind.OFFER_ACCEPTED: Template(
            "Offer accepted: {design_title}",
            "Hello {name},\n\n{counterparty} has accepted the offer of {amount} for “{design_title}”.\n\n"
            "See the next steps:\n{url}" + _EN_SIGN,
        ),
        NoticeKind.OFFER_REJECTED: Template(
            "Offer declined: {design_title}",
            "Hello {name},\n\n{counterparty} has declined the offer of {amount} for “{design_title}”.\n\n"
            "See the negotiation:\n{url}" + _EN_SIGN,
        ),
        NoticeKind.OFFER_EXPIRING: Template(
            "Offer expires within 24 hours: {design_title}",
            "Hello {name},\n\nThe offer of {amount} for “{design_title}” expires at {expires_at}. "
            "If there is no reply by then, it lapses.\n\nRespond here:\n{url}" + _EN_SIGN,
        ),
        NoticeKind.NEW_MESSAGES: Template(
            "{count} new messages in {thread_title}",
            "Hello {name},\n\nYou have {count} new messages in “{thread_title}”.\n\nRead them here:\n{url}" + _EN_SIGN,
        ),
        f"{NoticeKind.NEW_MESSAGES}.one": Template(
            "New message in {thread_title}",
            "Hello {name},\n\nYou have a new message in “{thread_title}”.\n\nRead it here:\n{url}" + _EN_SIGN,
        ),
        NoticeKind.NEGOTIATION_WITHDRAWN: Template(
            "Negotiation withdrawn: {design_title}",
            "Hello {name},\n\n{counterparty} has withdrawn from the negotiation for “{design_title}” "
            "(latest offer {amount}).\n\nSee the negotiation:\n{url}" + _EN_SIGN,
        ),
        NoticeKind.NEGOTIATION_EXPIRED: Template(
            "Offer lapsed: {design_title}",
            "Hello {name},\n\nThe offer of {amount} for “{design_title}” expired without a reply, so the "
            "negotiation has closed.\n\nSee the negotiation:\n{url}" + _EN_SIGN,
        ),
        NoticeKind.ORDER_UPDATE: Template(
            "Order {order_ref}: {step}",
            "Hello {name},\n\nYour order {order_ref} for “{design_title}” has a new step: {step}.\n\n"
            "Follow every step here:\n{url}" + _EN_SIGN,
        ),
        NoticeKind.JOB_OFFERED: Template(
            "New job offered: {design_title}",
            "Hello {name},\n\nWe offer you the production of {quantity} piece(s) of “{design_title}” "
            "(order {order_ref}). Please accept or decline by {expires_at}; after that the job goes to "
            "another workshop.\n\nSee the brief:\n{url}" + _EN_SIGN,
        ),
        NoticeKind.AGREEMENT_CONCLUDED: Template(
            "Agreement concluded: {design_title}",
            "Hello {name},\n\nYou accepted the offer of {amount} from {counterparty} for “{design_title}”. "
            "The licence agreement is now in force.\n\nSee its terms:\n{url}" + _EN_SIGN,
        ),
        NoticeKind.POLICY_CHANGED: Template(
            "Our privacy policy is changing on {effective_date}",
            "Hello {name},\n\nWe have made important changes to the Caratzon privacy policy. The new "
            "version takes effect on {effective_date}.\n\nRead it here:\n{url}\n\nFrom that date we will ask you, "
            "when you sign in, to confirm that you have read it. Continued use of Caratzon after that date "
            "constitutes acceptance of the new policy." + _EN_SIGN,
        ),
        NoticeKind.REQUEST_CODE: Template(
            "Your Caratzon verification code: {code}",
            "Hello {name},\n\nOur privacy team was asked to open a request for {request_type} on your Caratzon "
            "account. If that was you, give them this code to confirm it:\n\n    {code}\n\n"
            "The code works once, within 15 minutes. If you did not ask, ignore this email: nothing happens "
            "without the code.\n\nYou can also make requests yourself in your Privacy Center:\n{url}" + _EN_SIGN,
        ),
        NoticeKind.REQUEST_COMPLETED: Template(
            "Your privacy request {reference} is completed",
            "Hello {name},\n\nYour request for {request_type} (reference {reference}) is completed.\n\n"
            "{outcome}\n\nSee all your requests in your Privacy Center:\n{url}" + _EN_SIGN,
        ),
        NoticeKind.REQUEST_REFUSED: Template(
            "Your privacy request {reference} was refused",
            "Hello {name},\n\nWe could not carry out your request for {request_type} (reference {reference}).\n\n"
            "The reason: {reason}\n\nIf you disagree, reply to privacy@caratzon.com or open a new request. "
            "See all your requests in your Privacy Center:\n{url}" + _EN_SIGN,
        ),
    },
    Language.ZH_HANS: {
        NoticeKind.OFFER_RECEIVED: Template(
            "您的设计“{design_title}”收到新报价",
            "{name}，您好：\n\n{counterparty} 为您的设计“{design_title}”出价 {amount}。\n\n"
            "请点击以下链接查看，并选择接受、还价或拒绝：\n{url}" + _HANS_SIGN,
        ),
        NoticeKind.OFFER_COUNTERED: Template(
            "“{design_title}”收到还价",
            "{name}，您好：\n\n{counterparty} 就“{design_title}”提出了还价：{amount}。\n\n"
            "请点击以下链接查看还价：\n{url}" + _HANS_SIGN,
        ),
        NoticeKind.OFFER_ACCEPTED: Template(
            "报价已被接受：{design_title}",
            "{name}，您好：\n\n{counterparty} 已接受“{design_title}”的报价 {amount}。\n\n"
            "请点击以下链接查看后续步骤：\n{url}" + _HANS_SIGN,
        ),
        NoticeKind.OFFER_REJECTED: Template(
            "报价已被拒绝：{design_title}",
            "{name}，您好：\n\n{counterparty} 已拒绝“{design_title}”的报价 {amount}。\n\n"
            "请点击以下链接查看洽谈记录：\n{url}" + _HANS_SIGN,
        ),
        NoticeKind.OFFER_EXPIRING: Template(
            "报价将在 24 小时内到期：{design_title}",
            "{name}，您好：\n\n“{design_title}”的报价 {amount} 将于 {expires_at} 到期。"
            "如届时仍未回复，该报价将自动失效。\n\n请点击以下链接及时回复：\n{url}" + _HANS_SIGN,
        ),
        NoticeKind.NEW_MESSAGES: Template(
            "“{thread_title}”中有 {count} 条新消息",
            "{name}，您好：\n\n您在“{thread_title}”中有 {count} 条新消息。\n\n"
            "请点击以下链接查看：\n{url}" + _HANS_SIGN,
        ),
        NoticeKind.NEGOTIATION_WITHDRAWN: Template(
            "洽谈已撤回：{design_title}",
            "{name}，您好：\n\n{counterparty} 已退出“{design_title}”的洽谈（最新报价 {amount}）。\n\n"
            "请点击以下链接查看洽谈记录：\n{url}" + _HANS_SIGN,
        ),
        NoticeKind.NEGOTIATION_EXPIRED: Template(
            "报价已失效：{design_title}",
            "{name}，您好：\n\n“{design_title}”的报价 {amount} 已到期且未获回复，洽谈已结束。\n\n"
            "请点击以下链接查看洽谈记录：\n{url}" + _HANS_SIGN,
        ),
        NoticeKind.ORDER_UPDATE: Template(
            "订单 {order_ref}：{step}",
            "{name}，您好：\n\n您的订单 {order_ref}（“{design_title}”）有新进展：{step}。\n\n"
            "请点击以下链接查看全部进度：\n{url}" + _HANS_SIGN,
        ),
        NoticeKind.JOB_OFFERED: Template(
            "新的生产任务：{design_title}",
            "{name}，您好：\n\n我们邀请您生产“{design_title}” {quantity} 件（订单 {order_ref}）。"
            "请在 {expires_at} 前接受或拒绝，逾期该任务将转交其他工坊。\n\n"
            "请点击以下链接查看需求：\n{url}" + _HANS_SIGN,
        ),
        NoticeKind.AGREEMENT_CONCLUDED: Template(
            "许可协议已生效：{design_title}",
            "{name}，您好：\n\n您已接受 {counterparty} 就“{design_title}”提出的报价 {amount}，许可协议现已生效。\n\n"
            "请点击以下链接查看协议条款：\n{url}" + _HANS_SIGN,
        ),
        NoticeKind.POLICY_CHANGED: Template(
            "我们的隐私政策将于 {effective_date} 更新",
            "{name}，您好：\n\n我们对 Caratzon 隐私政策作出了重要修改，新版本将于 {effective_date} 生效。\n\n"
            "请点击以下链接阅读：\n{url}\n\n自该日期起，您登录时我们会请您确认已阅读新政策。"
            "该日期之后继续使用 Caratzon，即表示您接受新的隐私政策。" + _HANS_SIGN,
        ),
        NoticeKind.REQUEST_CODE: Template(
            "您的 Caratzon 验证码：{code}",
            "{name}，您好：\n\n有人请我们的隐私团队为您的 Caratzon 账户提出“{request_type}”的请求。"
            "如确是您本人，请将以下验证码告知团队以作确认：\n\n    {code}\n\n"
            "验证码只能使用一次，15 分钟内有效。如非您本人操作，请忽略此邮件：没有验证码，任何请求都不会被提出。\n\n"
            "您也可以在隐私中心自行提出请求：\n{url}" + _HANS_SIGN,
        ),
        NoticeKind.REQUEST_COMPLETED: Template(
            "您的隐私请求 {reference} 已完成",
            "{name}，您好：\n\n您关于“{request_type}”的请求（编号 {reference}）已完成。\n\n"
            "{outcome}\n\n请在隐私中心查看您的全部请求：\n{url}" + _HANS_SIGN,
        ),
        NoticeKind.REQUEST_REFUSED: Template(
            "您的隐私请求 {reference} 未获受理",
            "{name}，您好：\n\n我们无法执行您关于“{request_type}”的请求（编号 {reference}）。\n\n"
            "原因：{reason}\n\n如有异议，请回复 privacy@caratzon.com 或提出新的请求。"
            "请在隐私中心查看您的全部请求：\n{url}" + _HANS_SIGN,
        ),
    },
    Language.ZH_HANT: {
        NoticeKind.OFFER_RECEIVED: Template(
            "您的設計「{design_title}」收到新報價",
            "{name} 您好：\n\n{counterparty} 為您的設計「{design_title}」出價 {amount}。\n\n"
            "請點擊以下連結查看，並選擇接受、還價或拒絕：\n{url}" + _HANT_SIGN,
        ),
        NoticeKind.OFFER_COUNTERED: Template(
            "「{design_title}」收到還價",
            "{name} 您好：\n\n{counterparty} 就「{design_title}」提出了還價：{amount}。\n\n"
            "請點擊以下連結查看還價：\n{url}" + _HANT_SIGN,
        ),
        NoticeKind.OFFER_ACCEPTED: Template(
            "報價已獲接受：{design_title}",
            "{name} 您好：\n\n{counterparty} 已接受「{design_title}」的報價 {amount}。\n\n"
            "請點擊以下連結查看後續步驟：\n{url}" + _HANT_SIGN,
        ),
        NoticeKind.OFFER_REJECTED: Template(
            "報價已被拒絕：{design_title}",
            "{name} 您好：\n\n{counterparty} 已拒絕「{design_title}」的報價 {amount}。\n\n"
            "請點擊以下連結查看洽談紀錄：\n{url}" + _HANT_SIGN,
        ),
        NoticeKind.OFFER_EXPIRING: Template(
            "報價將於 24 小時內到期：{design_title}",
            "{name} 您好：\n\n「{design_title}」的報價 {amount} 將於 {expires_at} 到期。"
            "若屆時仍未回覆，該報價將自動失效。\n\n請點擊以下連結盡快回覆：\n{url}" + _HANT_SIGN,
        ),
        NoticeKind.NEW_MESSAGES: Template(
            "「{thread_title}」有 {count} 則新訊息",
            "{name} 您好：\n\n您在「{thread_title}」中有 {count} 則新訊息。\n\n"
            "請點擊以下連結查看：\n{url}" + _HANT_SIGN,
        ),
        NoticeKind.NEGOTIATION_WITHDRAWN: Template(
            "洽談已撤回：{design_title}",
            "{name} 您好：\n\n{counterparty} 已退出「{design_title}」的洽談（最新報價 {amount}）。\n\n"
            "請點擊以下連結查看洽談紀錄：\n{url}" + _HANT_SIGN,
        ),
        NoticeKind.NEGOTIATION_EXPIRED: Template(
            "報價已失效：{design_title}",
            "{name} 您好：\n\n「{design_title}」的報價 {amount} 已到期且未獲回覆，洽談已結束。\n\n"
            "請點擊以下連結查看洽談紀錄：\n{url}" + _HANT_SIGN,
        ),
        NoticeKind.ORDER_UPDATE: Template(
            "訂單 {order_ref}：{step}",
            "{name} 您好：\n\n您的訂單 {order_ref}（「{design_title}」）有新進展：{step}。\n\n"
            "請點擊以下連結查看全部進度：\n{url}" + _HANT_SIGN,
        ),
        NoticeKind.JOB_OFFERED: Template(
            "新的生產任務：{design_title}",
            "{name} 您好：\n\n我們邀請您生產「{design_title}」{quantity} 件（訂單 {order_ref}）。"
            "請在 {expires_at} 前接受或拒絕，逾期該任務將轉交其他工坊。\n\n"
            "請點擊以下連結查看需求：\n{url}" + _HANT_SIGN,
        ),
        NoticeKind.AGREEMENT_CONCLUDED: Template(
            "授權協議已生效：{design_title}",
            "{name} 您好：\n\n您已接受 {counterparty} 就「{design_title}」提出的報價 {amount}，授權協議現已生效。\n\n"
            "請點擊以下連結查看協議條款：\n{url}" + _HANT_SIGN,
        ),
        NoticeKind.POLICY_CHANGED: Template(
            "我們的私隱政策將於 {effective_date} 更新",
            "{name} 您好：\n\n我們對 Caratzon 私隱政策作出了重要修訂，新版本將於 {effective_date} 生效。\n\n"
            "請點擊以下連結閱讀：\n{url}\n\n自該日期起，您登入時我們會請您確認已閱讀新政策。"
            "該日期之後繼續使用 Caratzon，即表示您接受新的私隱政策。" + _HANT_SIGN,
        ),
        NoticeKind.REQUEST_CODE: Template(
            "您的 Caratzon 驗證碼：{code}",
            "{name} 您好：\n\n有人請我們的私隱團隊為您的 Caratzon 帳戶提出「{request_type}」的請求。"
            "如確是您本人，請將以下驗證碼告知團隊以作確認：\n\n    {code}\n\n"
            "驗證碼只能使用一次，15 分鐘內有效。如非您本人操作，請忽略此電郵：沒有驗證碼，任何請求都不會被提出。\n\n"
            "您亦可在私隱中心自行提出請求：\n{url}" + _HANT_SIGN,
        ),
        NoticeKind.REQUEST_COMPLETED: Template(
            "您的私隱請求 {reference} 已完成",
            "{name} 您好：\n\n您關於「{request_type}」的請求（編號 {reference}）已完成。\n\n"
            "{outcome}\n\n請在私隱中心查看您的全部請求：\n{url}" + _HANT_SIGN,
        ),
        NoticeKind.REQUEST_REFUSED: Template(
            "您的私隱請求 {reference} 未獲受理",
            "{name} 您好：\n\n我們無法執行您關於「{request_type}」的請求（編號 {reference}）。\n\n"
            "原因：{reason}\n\n如有異議，請回覆 privacy@caratzon.com 或提出新的請求。"
            "請在私隱中心查看您的全部請求：\n{url}" + _HANT_SIGN,
        ),
    },
}

FALLBACK_LANGUAGE = Language.EN

# Every line break a mail reader or header parser might honour, plus other controls.
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
_MESSAGE_ID_PART = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*")


def placeholders(text: str) -> frozenset[str]:
    """The names a template refers to (``{name}`` → ``name``)."""
    names = set()
    for _literal, name, _spec, _conversion in string.Formatter().parse(text):
        if name is not None:
            if not name.isidentifier():
                raise ValueError(f"template placeholder {{{name}}} is not a plain name")
            names.add(name)
    return frozenset(names)


def template_for(kind: NoticeKind, language: str, values: Mapping[str, str] | None = None) -> Template:
    """The template for ``kind`` in ``language``, or in English if we have none."""
    table = TEMPLATES.get(language) or TEMPLATES[FALLBACK_LANGUAGE]
    if kind not in table:
        table = TEMPLATES[FALLBACK_LANGUAGE]
    if values is not None and values.get("count") == "1":
        singular = table.get(f"{kind}.one")
        if singular is not None:
            return singular
    return table[kind]


def single_line(text: str) -> str:
    """``text`` with every line break and control character folded to one space."""
    return _LINE_BREAKS.sub(" ", text).strip()


def render(notice: Notice) -> tuple[str, str]:
    """``(subject, body)`` for ``notice``, in its language (English if unknown).

    Raises :class:`ValueError` naming every placeholder the template needs but
    ``notice.values`` lacks. Values go into the subject on one line: CR, LF and
    other control characters become spaces, so no value can add a header."""
    template = template_for(notice.kind, notice.language, notice.values)
    missing = sorted((placeholders(template.subject) | placeholders(template.body)) - notice.values.keys())
    if missing:
        raise ValueError(f"notice {notice.kind.value} is missing value(s) for: {', '.join(missing)}")
    subject_values = {key: single_line(value) for key, value in notice.values.items()}
    subject = single_line(template.subject.format_map(subject_values))
    body = template.body.format_map(notice.values)
    return subject, body


def new_messages_notice(
    *, to_email: str, language: str, name: str, count: int, thread_title: str, url: str
) -> Notice:
    """The batched "new messages" notice: one mail for ``count`` unread messages."""
    if count < 1:
        raise ValueError("a new-messages notice needs at least one message")
    values = {"name": name, "count": str(count), "thread_title": thread_title, "url": url}
    return Notice(NoticeKind.NEW_MESSAGES, to_email, language, values)


def message_id_for(outbox_id: str, domain: str = "caratzon.local") -> str:
    """The Message-ID for the outbox row ``outbox_id``: always the same for the same
    row, so a retried send is recognisably the same message."""
    if not _MESSAGE_ID_PART.fullmatch(outbox_id):
        raise ValueError(f"outbox id {outbox_id!r} cannot be used in a Message-ID")
    if not _DOMAIN.fullmatch(domain):
        raise ValueError(f"{domain!r} is not a domain name")
    return f"<notice.{outbox_id}@{domain}>"


# The order steps as people read them, in each language (the {step} of ORDER_UPDATE).
ORDER_STEPS: Mapping[str, Mapping[str, str]] = {
    Language.EN: {
        "order.submitted": "submitted for production", "order.routed": "offered to a workshop",
        "order.reassigned": "moved to another workshop", "order.declined": "the workshop declined; finding another",
        "order.offer_lapsed": "the workshop did not answer in time; finding another",
        "order.accepted": "accepted by the workshop", "order.in_production": "in production",
        "order.quality_check": "in quality check", "order.qc_passed": "passed quality check",
        "order.qc_failed": "failed quality check, back in production", "order.shipped": "shipped",
        "order.delivered": "delivered", "order.completed": "completed", "order.disputed": "disputed",
        "order.cancelled": "cancelled",
    },
    Language.ZH_HANS: {
        "order.submitted": "已提交生产", "order.routed": "已分派给工坊", "order.reassigned": "已改派其他工坊",
        "order.declined": "工坊已拒绝，正在另行安排", "order.offer_lapsed": "工坊未及时回复，正在另行安排",
        "order.accepted": "工坊已接单", "order.in_production": "生产中", "order.quality_check": "质检中",
        "order.qc_passed": "质检通过", "order.qc_failed": "质检未通过，返回生产", "order.shipped": "已发货",
        "order.delivered": "已送达", "order.completed": "已完成", "order.disputed": "有争议",
        "order.cancelled": "已取消",
    },
    Language.ZH_HANT: {
        "order.submitted": "已提交生產", "order.routed": "已分派給工坊", "order.reassigned": "已改派其他工坊",
        "order.declined": "工坊已拒絕，正在另行安排", "order.offer_lapsed": "工坊未及時回覆，正在另行安排",
        "order.accepted": "工坊已接單", "order.in_production": "生產中", "order.quality_check": "品檢中",
        "order.qc_passed": "品檢通過", "order.qc_failed": "品檢未通過，返回生產", "order.shipped": "已出貨",
        "order.delivered": "已送達", "order.completed": "已完成", "order.disputed": "有爭議",
        "order.cancelled": "已取消",
    },
}


def order_step(event: str, language: str) -> str:
    table = ORDER_STEPS.get(language) or ORDER_STEPS[FALLBACK_LANGUAGE]
    return table.get(event) or ORDER_STEPS[FALLBACK_LANGUAGE].get(event, event)


PER_PIECE: Mapping[str, str] = {Language.EN: "per piece", Language.ZH_HANS: "每件", Language.ZH_HANT: "每件"}


def per_piece(language: str) -> str:
    return PER_PIECE.get(language) or PER_PIECE[FALLBACK_LANGUAGE]


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def long_date(day: date, language: str) -> str:
    """A date as a reader of ``language`` writes it: "4 March 2027", "2027年3月4日"."""
    if language in (Language.ZH_HANS, Language.ZH_HANT):
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
