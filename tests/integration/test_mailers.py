"""Issue #4: the mailer adapters. ``FileMailer`` writes real ``.eml`` files;
``SmtpMailer`` talks to a tiny SMTP server run here in a thread on 127.0.0.1."""

from __future__ import annotations

import base64
import socket
import socketserver
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

import attrs
import pytest

from caratzon_adapters.mail import FileMailer, MailDeliveryFailed, SmtpMailer, make_mailer
from caratzon_core.errors import DomainError
from caratzon_core.notices import Notice, NoticeKind, message_id_for, render

PASSWORD = "s3cr3t-Pa55"
NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def parse(data: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


def chinese_notice() -> tuple[str, str]:
    values = {
        "name": "陳小姐", "counterparty": "金匠工坊", "design_title": "蓮花戒指", "amount": "NT$ 38,000",
        "url": "https://caratzon.example/offers/7",
    }
    return render(Notice(NoticeKind.OFFER_ACCEPTED, "chen@example.com", "zh-Hant", values))


# -- FileMailer -----------------------------------------------------------------------


def test_file_mailer_writes_a_parseable_eml_with_the_right_headers(tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path / "mail", now=lambda: NOW)
    mailer.send(to="buyer@example.com", subject="New offer on Ring", body="Hello,\n\nAn offer.\n",
                message_id=message_id_for("ob1"))
    [path] = mailer.sent()
    assert path.suffix == ".eml" and path.parent == tmp_path / "mail"
    raw = path.read_bytes()
    assert b"\r\n" in raw  # RFC 5322 line endings
    message = parse(raw)
    assert message["From"] == "Caratzon <no-reply@caratzon.local>"
    assert message["To"] == "buyer@example.com"
    assert message["Subject"] == "New offer on Ring"
    assert message["Message-ID"] == "<notice.ob1@caratzon.local>"
    assert parsedate_to_datetime(message["Date"]) == NOW
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message.get_content().replace("\r\n", "\n") == "Hello,\n\nAn offer.\n"


def test_chinese_subject_and_body_round_trip(tmp_path: Path) -> None:
    subject, body = chinese_notice()
    mailer = FileMailer(tmp_path, sender="Caratzon 通知 <notices@caratzon.example>")
    mailer.send(to="chen@example.com", subject=subject, body=body, message_id=message_id_for("zh1"))
    [path] = mailer.sent()
    raw = path.read_bytes()
    raw.decode("ascii")  # headers RFC 2047-encoded, body transfer-encoded: 7-bit safe on any relay
    message = parse(raw)
    assert message["Subject"] == subject == "報價已獲接受\uff1a蓮花戒指"  # full-width colon
    assert message["From"] == "Caratzon 通知 <notices@caratzon.example>"
    assert message.get_content().replace("\r\n", "\n").rstrip("\n") == body.rstrip("\n")
    assert "金匠工坊 已接受「蓮花戒指」的報價 NT$ 38,000。" in message.get_content()


def test_second_send_with_the_same_id_writes_nothing_new(tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path)
    mailer.send(to="a@example.com", subject="First", body="one", message_id=message_id_for("same"))
    [path] = list(tmp_path.iterdir())
    before = path.read_bytes()
    mailer.send(to="a@example.com", subject="Retry", body="two", message_id=message_id_for("same"))
    assert list(tmp_path.iterdir()) == [path]  # no duplicate, no temp file left behind
    assert path.read_bytes() == before
    mailer.send(to="a@example.com", subject="Other", body="three", message_id=message_id_for("other"))
    assert len(mailer.sent()) == 2


def test_concurrent_sends_of_one_message_leave_one_file(tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path)
    threads = [
        threading.Thread(target=mailer.send, kwargs={"to": "a@example.com", "subject": "S", "body": "b",
                                                     "message_id": message_id_for("race")})
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [p.suffix for p in tmp_path.iterdir()] == [".eml"]


def test_a_line_break_in_a_header_is_refused(tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path)
    with pytest.raises(ValueError):
        mailer.send(to="a@example.com\r\nBcc: b@example.com", subject="S", body="b", message_id="<x@y>")
    with pytest.raises(ValueError):
        mailer.send(to="a@example.com", subject="S\nBcc: b@example.com", body="b", message_id="<x@y>")
    assert mailer.sent() == []


def test_make_mailer_defaults_to_files_under_the_data_dir(tmp_path: Path) -> None:
    mailer = make_mailer(smtp_url=None, data_dir=tmp_path)
    assert isinstance(mailer, FileMailer) and mailer.directory == tmp_path / "mail"
    smtp = make_mailer(smtp_url="smtps://u:p@mail.example.com", data_dir=tmp_path)
    assert isinstance(smtp, SmtpMailer) and smtp.port == 465 and smtp.use_tls


# -- SmtpMailer: URL parsing ----------------------------------------------------------


def test_from_url_reads_every_part() -> None:
    mailer = SmtpMailer.from_url("smtp://mailer%40corp:p%3Ass@mail.example.com:2525?starttls=1&timeout=3")
    assert (mailer.host, mailer.port, mailer.username, mailer.password) == ("mail.example.com", 2525, "mailer@corp", "p:ss")
    assert mailer.starttls and not mailer.use_tls and mailer.timeout == 3.0
    assert SmtpMailer.from_url("smtp://localhost").port == 25
    assert SmtpMailer.from_url("smtp://h?starttls=1").port == 587


@pytest.mark.parametrize("url", ["http://h", "smtp://", "smtp://h?tls=1", "smtps://h?starttls=1", "smtp://h?timeout=x",
                                 "smtp://h:99999"])
def test_from_url_rejects_bad_urls(url: str) -> None:
    with pytest.raises(ValueError):
        SmtpMailer.from_url(url)


def test_repr_masks_the_password() -> None:
    mailer = SmtpMailer.from_url(f"smtp://mailer:{PASSWORD}@mail.example.com:587?starttls=1")
    assert PASSWORD not in repr(mailer) and "'***'" in repr(mailer)
    assert PASSWORD not in repr(attrs.evolve(mailer, host="other"))


# -- SmtpMailer against a local server -------------------------------------------------


class SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough ESMTP: EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    server: SmtpServer

    def reply(self, text: str) -> None:
        self.wfile.write(text.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        self.reply("220 test.local ESMTP")
        sender, recipients = "", list[str]()
        while line := self.rfile.readline():
            command = line.decode("ascii").rstrip("\r\n")
            verb, _, argument = command.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                self.reply("250-test.local\r\n250-AUTH PLAIN\r\n250 8BITMIME")
            elif verb == "HELO":
                self.reply("250 test.local")
            elif verb == "AUTH":
                _mechanism, _, response = argument.partition(" ")
                _zid, user, password = base64.b64decode(response).decode("utf-8").split("\0")
                ok = (user, password) == self.server.credentials
                self.reply("235 2.7.0 ok" if ok else "535 5.7.8 authentication failed")
            elif verb == "MAIL":
                sender, recipients = argument, []
                self.reply("250 ok")
            elif verb == "RCPT":
                recipients.append(argument)
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 end with .")
                lines = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(data[1:] if data.startswith(b"..") else data)
                self.server.received.append((sender, recipients, b"".join(lines)))
                self.reply("250 queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 ok")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, credentials: tuple[str, str]) -> None:
        super().__init__(("127.0.0.1", 0), SmtpHandler)
        self.credentials = credentials
        self.received: list[tuple[str, list[str], bytes]] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(("mailer", PASSWORD))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_smtp_delivers_the_message_with_headers_intact(smtp_server: SmtpServer) -> None:
    mailer = SmtpMailer.from_url(f"smtp://mailer:{PASSWORD}@127.0.0.1:{smtp_server.port}?timeout=5")
    subject, body = chinese_notice()
    mailer.send(to="chen@example.com", subject=subject, body=body, message_id=message_id_for("smtp1"))
    [(sender, recipients, data)] = smtp_server.received
    assert sender.upper().startswith("FROM:<NO-REPLY@CARATZON.LOCAL>")
    assert recipients == ["TO:<chen@example.com>"]
    message = parse(data)
    assert message["Message-ID"] == "<notice.smtp1@caratzon.local>"
    assert message["To"] == "chen@example.com"
    assert message["From"] == "Caratzon <no-reply@caratzon.local>"
    assert message["Subject"] == subject
    assert message["Date"] is not None
    assert message.get_content().replace("\r\n", "\n").rstrip("\n") == body.rstrip("\n")


def test_a_retried_send_carries_the_same_message_id(smtp_server: SmtpServer) -> None:
    mailer = SmtpMailer.from_url(f"smtp://mailer:{PASSWORD}@127.0.0.1:{smtp_server.port}")
    for _ in range(2):
        mailer.send(to="a@example.com", subject="S", body="b", message_id=message_id_for("retry"))
    ids = {parse(data)["Message-ID"] for _s, _r, data in smtp_server.received}
    assert ids == {"<notice.retry@caratzon.local>"}


def test_a_refused_login_fails_clearly_without_the_password(smtp_server: SmtpServer) -> None:
    mailer = SmtpMailer.from_url(f"smtp://mailer:wrong-{PASSWORD}@127.0.0.1:{smtp_server.port}")
    with pytest.raises(MailDeliveryFailed) as caught:
        mailer.send(to="a@example.com", subject="S", body="b", message_id=message_id_for("auth"))
    error = caught.value
    assert isinstance(error, DomainError) and error.code == "mail_failed"
    assert "refused the login" in str(error) and not error.retryable
    assert PASSWORD not in str(error) and PASSWORD not in repr(error.args)
    assert smtp_server.received == []


def test_connection_refused_fails_clearly_without_the_password() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailer = SmtpMailer.from_url(f"smtp://mailer:{PASSWORD}@127.0.0.1:{port}?timeout=2")
    with pytest.raises(MailDeliveryFailed) as caught:
        mailer.send(to="a@example.com", subject="S", body="b", message_id=message_id_for("down"))
    error = caught.value
    assert error.code == "mail_failed" and error.retryable
    assert f"127.0.0.1:{port}" in str(error) and "ConnectionRefusedError" in str(error)
    assert PASSWORD not in str(error) and PASSWORD not in repr(error.args)
    assert error.__cause__ is None and error.__suppress_context__
