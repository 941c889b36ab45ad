"""A real SMTP server on localhost (aiosmtpd) for the e-mail tests, with STARTTLS, SSL and
login when a test asks for them, and a throw-away certificate authority (trustme)."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
from dataclasses import dataclass, field

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from settings_app.selectors import get_business_settings

USERNAME = "billing"
PASSWORD = "right-password"
REFUSED_PREFIX = "nobody@"  # recipients the server refuses for good (550)
BUSY_PREFIX = "busy@"  # recipients the server refuses for now (450)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool
    authenticated: bool

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.content, policy=email.policy.default)

    def attachments(self) -> list[tuple[str, bytes]]:
        return [
            (part.get_filename(), part.get_content()) for part in self.message.iter_attachments()
        ]

    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith(REFUSED_PREFIX):
            return "550 5.1.1 No such user here"
        if address.startswith(BUSY_PREFIX):
            return "450 4.2.1 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                content=envelope.content,
                tls=server.transport.get_extra_info("ssl_object") is not None,
                authenticated=bool(session.authenticated),
            )
        )
        return "250 2.0.0 Ok: queued as TEST1"


def _authenticate(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USERNAME.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)  # aiosmtpd answers 535 itself


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailServer:
    def __init__(self, *, login: bool = False, starttls=None, implicit_tls=None):
        self.handler = Handler()
        self.port = free_port()
        kwargs = {}
        if login:
            kwargs.update(authenticator=_authenticate, auth_require_tls=False)
        if starttls is not None:
            kwargs.update(tls_context=starttls, require_starttls=True)
        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            ssl_context=implicit_tls,
            **kwargs,
        )
        self.controller.start()

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def stop(self) -> None:
        self.controller.stop()


@pytest.fixture(scope="session")
def certificate_authority():
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(certificate_authority, tmp_path_factory):
    path = tmp_path_factory.mktemp("smtp-ca") / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(path))
    return str(path)


def server_tls_context(authority) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture
def tls_context(certificate_authority):
    return server_tls_context(certificate_authority)


@pytest.fixture
def start_mail_server():
    """Start servers with the options a test needs; all stopped after it."""
    started = []

    def start(**kwargs) -> MailServer:
        server = MailServer(**kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def mail_server(start_mail_server):
    return start_mail_server()


def point_settings_at(port: int, **fields) -> None:
    """The business's SMTP settings, aimed at the test server on ``port``."""
    business = get_business_settings()
    business.smtp_host = "127.0.0.1"
    business.smtp_port = port
    business.smtp_use_tls = False
    business.smtp_use_ssl = False
    business.smtp_username = ""
    business.smtp_password = ""
    business.smtp_from_email = "billing@northwind.example.com"
    business.smtp_from_name = "Northwind Billing"
    business.email = "office@northwind.example.com"
    for name, value in fields.items():
        setattr(business, name, value)
    business.save()


@pytest.fixture
def smtp(business, mail_server, settings):
    """A plain SMTP server on localhost, and the settings pointing at it."""
    settings.OTB_SMTP_TIMEOUT = 5
    point_settings_at(mail_server.port)
    return mail_server
