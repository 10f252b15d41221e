"""Issue #4, the AI adapters: the real google-genai SDK against a local Gemini fake
(pytest-httpserver), and the honest offline default."""

from __future__ import annotations

import json
import logging
import re
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from caratzon_adapters.ai import OfflineAI
from caratzon_adapters.ai.gemini import MAX_TEXT_CHARS, AIUnavailable, GeminiAI, make_gemini
from caratzon_core.errors import DomainError
from caratzon_core.ports import AIService

API_KEY = "test-key-8d1f0c2a"
GENERATE = re.compile(r".*/models/[^/]+:generateContent$")
ZH_TEXT = "请将戒指做成18K金，7号，带宽2.5 mm，价格USD 1,250。"  # noqa: RUF001
TEXT = "Please make the ring 18K gold, size 7, band width 2.5 mm, price USD 1,250."


def gemini_reply(text: str | None, finish: str = "STOP") -> dict[str, Any]:
    parts = [] if text is None else [{"text": text}]
    return {
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish}],
        "usageMetadata": {},
    }


def error_reply(code: int, status: str) -> Response:
    body = {"error": {"code": code, "message": "fake failure", "status": status}}
    return Response(json.dumps(body), status=code, content_type="application/json")


@pytest.fixture
def ai(httpserver: HTTPServer) -> GeminiAI:
    return make_gemini(API_KEY, base_url=httpserver.url_for("/"), timeout_s=5)


def answer(httpserver: HTTPServer, reply: dict[str, Any] | Response | Callable[[Request], Response]) -> None:
    handler = httpserver.expect_oneshot_request(GENERATE, method="POST")
    if isinstance(reply, dict):
        handler.respond_with_json(reply)
    elif isinstance(reply, Response):
        handler.respond_with_response(reply)
    else:
        handler.respond_with_handler(reply)


def unavailable(ai: GeminiAI, text: str = TEXT) -> AIUnavailable:
    with pytest.raises(AIUnavailable) as err:
        ai.translate(text, "en", "zh-Hans")
    assert isinstance(err.value, DomainError)
    assert err.value.code == "ai_unavailable"
    assert err.value.message
    assert API_KEY not in str(err.value) and TEXT not in str(err.value)
    assert err.value.__cause__ is None
    return err.value


# -- the request the real SDK sends ------------------------------------------------


def test_sends_one_structured_request_and_returns_the_translation(httpserver: HTTPServer, ai: GeminiAI) -> None:
    answer(httpserver, gemini_reply(json.dumps({"translation": ZH_TEXT})))

    result = ai.translate(TEXT, "en", "zh-Hans")

    assert result == ZH_TEXT
    assert len(httpserver.log) == 1
    request, _ = httpserver.log[0]
    assert request.path.endswith("/models/gemini-2.5-flash:generateContent")
    assert request.headers["x-goog-api-key"] == API_KEY
    assert API_KEY not in request.url
    body = request.get_json()
    assert body["contents"] == [{"role": "user", "parts": [{"text": TEXT}]}]
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    schema = config["responseSchema"]
    assert schema["properties"]["translation"]["type"].upper() == "STRING"
    assert schema["required"] == ["translation"]
    assert config["temperature"] <= 0.3
    instruction = " ".join(part["text"] for part in body["systemInstruction"]["parts"])
    assert "English" in instruction and "(BCP-47 en)" in instruction
    assert "Simplified Chinese" in instruction and "zh-Hans" in instruction
    assert "numbers" in instruction and "JSON" in instruction
    assert TEXT not in instruction


def test_traditional_chinese_and_custom_model(httpserver: HTTPServer) -> None:
    ai = make_gemini(API_KEY, base_url=httpserver.url_for("/"), model="gemini-2.5-flash-lite")
    answer(httpserver, gemini_reply('{"translation": "Hello"}'))

    assert ai.translate("你好", "zh-Hant", "en") == "Hello"

    request, _ = httpserver.log[0]
    assert request.path.endswith("/models/gemini-2.5-flash-lite:generateContent")
    instruction = request.get_json()["systemInstruction"]["parts"][0]["text"]
    assert "from Traditional Chinese (BCP-47 zh-Hant) into English (BCP-47 en)" in instruction


def test_gemini_adapter_satisfies_the_port(ai: GeminiAI) -> None:
    port: AIService = ai
    assert port is ai


# -- what needs no request ---------------------------------------------------------


def test_same_language_or_blank_text_is_returned_without_a_request(httpserver: HTTPServer, ai: GeminiAI) -> None:
    assert ai.translate(TEXT, "zh-Hans", "zh-Hans") == TEXT
    assert ai.translate("  \n", "en", "zh-Hant") == "  \n"
    assert httpserver.log == []


def test_text_over_the_limit_is_not_translated(httpserver: HTTPServer, ai: GeminiAI) -> None:
    assert ai.translate("a" * (MAX_TEXT_CHARS + 1), "en", "zh-Hans") is None
    assert httpserver.log == []


@pytest.mark.parametrize(("source", "target"), [("fr", "en"), ("en", "zh-CN"), ("", "en"), ("EN", "zh-Hans")])
def test_unknown_language_codes_are_refused(httpserver: HTTPServer, ai: GeminiAI, source: str, target: str) -> None:
    with pytest.raises(ValueError, match=r"unknown .* language"):
        ai.translate(TEXT, source, target)
    assert httpserver.log == []


def test_make_gemini_needs_a_key() -> None:
    with pytest.raises(ValueError, match="API key"):
        make_gemini("")


# -- failures become AIUnavailable ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("this is not JSON", "malformed"),
        ('{"translation": 42}', "malformed"),
        ('{"text": "wrong key"}', "malformed"),
        ('{"translation": "ok", "note": "extra"}', "malformed"),
        ('["translation"]', "malformed"),
        ('{"translation": "   "}', "empty"),
    ],
)
def test_malformed_answers_are_unavailable(httpserver: HTTPServer, ai: GeminiAI, text: str, words: str) -> None:
    answer(httpserver, gemini_reply(text))
    assert words in unavailable(ai).message


def test_safety_block_is_unavailable(httpserver: HTTPServer, ai: GeminiAI) -> None:
    answer(httpserver, gemini_reply(None, finish="SAFETY"))
    assert "declined" in unavailable(ai).message


def test_blocked_prompt_is_unavailable(httpserver: HTTPServer, ai: GeminiAI) -> None:
    answer(httpserver, {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {}})
    assert "declined" in unavailable(ai).message


def test_truncated_answer_is_unavailable(httpserver: HTTPServer, ai: GeminiAI) -> None:
    answer(httpserver, gemini_reply('{"translation": "请将', finish="MAX_TOKENS"))
    assert "short" in unavailable(ai).message


def test_no_text_without_a_finish_reason_is_unavailable(httpserver: HTTPServer, ai: GeminiAI) -> None:
    answer(httpserver, {"candidates": [{"content": {"role": "model", "parts": []}}], "usageMetadata": {}})
    unavailable(ai)


@pytest.mark.parametrize(
    ("code", "status", "words"),
    [(429, "RESOURCE_EXHAUSTED", "quota"), (503, "UNAVAILABLE", "temporarily"), (403, "PERMISSION_DENIED", "403")],
)
def test_http_errors_are_unavailable_without_retries(
    httpserver: HTTPServer, ai: GeminiAI, code: int, status: str, words: str
) -> None:
    answer(httpserver, error_reply(code, status))
    assert words in unavailable(ai).message
    assert len(httpserver.log) == 1


def test_timeout_is_unavailable(httpserver: HTTPServer) -> None:
    ai = make_gemini(API_KEY, base_url=httpserver.url_for("/"), timeout_s=0.2)

    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return Response(json.dumps(gemini_reply('{"translation": "late"}')), content_type="application/json")

    answer(httpserver, slow)
    assert "in time" in unavailable(ai).message


def test_unreachable_service_is_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ai = make_gemini(API_KEY, base_url=f"http://127.0.0.1:{port}/", timeout_s=2)
    assert "reached" in unavailable(ai).message


def test_neither_the_text_nor_the_key_is_logged(
    httpserver: HTTPServer, ai: GeminiAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answer(httpserver, gemini_reply("not JSON"))
    unavailable(ai)
    answer(httpserver, error_reply(429, "RESOURCE_EXHAUSTED"))
    unavailable(ai)
    ai.translate("b" * (MAX_TEXT_CHARS + 1), "en", "zh-Hant")
    assert caplog.records
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert API_KEY not in logged
    assert TEXT not in logged and "bbbb" not in logged


# -- the offline default -------------------------------------------------------------


def test_offline_adapter_never_fakes_a_translation() -> None:
    offline: AIService = OfflineAI()
    assert offline.translate(TEXT, "en", "zh-Hans") is None
    assert offline.translate("你好", "zh-Hant", "zh-Hans") is None
    assert offline.translate("", "en", "zh-Hant") is None


def test_offline_adapter_returns_text_already_in_the_target_language() -> None:
    assert OfflineAI().translate(TEXT, "en", "en") == TEXT
    assert OfflineAI().translate("你好", "zh-Hant", "zh-Hant") == "你好"


def test_the_portal_translates_messages_through_gemini_when_configured(httpserver: HTTPServer, tmp_path) -> None:
    """Wiring, end to end: CARATZON_AI=gemini makes the bootstrap hand the messaging
    use case the real SDK adapter; the reader gets the translation and the original,
    and an objecting author's text never reaches the server (P18, P23, P40)."""
    from datetime import date

    from caratzon_adapters.bootstrap import bootstrap
    from caratzon_adapters.config import Config
    from caratzon_core.access import Actor
    from caratzon_core.privacy import INITIAL_POLICY_VERSION
    from caratzon_core.services.accounts import AccountChanges, SignUp
    from caratzon_core.testing import FakeHasher, InMemoryStore

    config = Config.from_env({
        "CARATZON_DATA_DIR": str(tmp_path), "CARATZON_SECRET_KEY": "k" * 40, "CARATZON_AI": "gemini",
        "CARATZON_GEMINI_API_KEY": API_KEY, "CARATZON_GEMINI_BASE_URL": httpserver.url_for("/"),
    })
    services = bootstrap(config, uow=InMemoryStore(), hasher=FakeHasher())
    accounts, messaging = services.accounts, services.messaging

    def person(email: str, language: str) -> Actor:
        return accounts.actor_for(accounts.sign_up(SignUp(
            email=email, password="Emerald-Cut-Halo-2026", name=email[:3], role="buyer", language=language,
            date_of_birth=date(1985, 1, 1), accept_policy_version=INITIAL_POLICY_VERSION)))

    writer = person("wen@example.com", "zh-Hans")
    thread = messaging.open_support(writer, "Ring", ZH_TEXT)
    admin = accounts.actor_for(accounts.create_user(Actor.cli_operator(), SignUp(
        email="ada@example.com", password="Emerald-Cut-Halo-2026", name="Ada", role="admin",
        date_of_birth=date(1980, 1, 1), accept_policy_version=INITIAL_POLICY_VERSION)))
    answer(httpserver, gemini_reply(json.dumps({"translation": TEXT})))
    [message] = messaging.read(admin, thread.id).messages
    assert message.translated and message.text == TEXT and message.original == ZH_TEXT
    assert len(httpserver.log) == 1
    messaging.read(admin, thread.id)  # cached: no second request
    assert len(httpserver.log) == 1

    accounts.update_account(writer, writer.id, AccountChanges(object_to_ai=True))
    messaging.post(writer, thread.id, "第二条消息")
    view = messaging.read(admin, thread.id)
    assert view.messages[-1].text == "第二条消息" and not view.messages[-1].translated
    assert len(httpserver.log) == 1  # nothing more was sent
