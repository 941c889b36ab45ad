"""Talking to the business's SMTP server: the connection, built at send time from the
settings, and what each way of failing means for the user.

Django's SMTP backend does the talking. Two small additions: the server's answer to the
message (``250 2.0.0 queued as ...``) is kept for the attempt's record, and recipients the
server refused while accepting others are reported instead of silently dropped.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from typing import cast

from django.conf import settings as django_settings
from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from .models import FailureKind

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What one attempt came to. ``problem`` is for the user; ``answer`` is the server's."""

    sent: bool
    retry: bool = False
    kind: str = ""
    problem: str = ""
    code: int | None = None
    answer: str = ""
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)


class _AnswerKeeping:
    """Keeps the server's answer to DATA and the recipients it refused."""

    last_answer: tuple[int, bytes] | None = None
    refused: dict | None = None

    def data(self, msg):
        self.last_answer = super().data(msg)
        return self.last_answer

    def sendmail(self, *args, **kwargs):
        self.refused = super().sendmail(*args, **kwargs)
        return self.refused


class _SMTP(_AnswerKeeping, smtplib.SMTP):
    pass


class _SMTP_SSL(_AnswerKeeping, smtplib.SMTP_SSL):
    pass


class BusinessSMTPBackend(EmailBackend):
    @property
    def connection_class(self):
        return _SMTP_SSL if self.use_ssl else _SMTP

    @cached_property
    def ssl_context(self):
        # The server's certificate is always verified, against OTB_SMTP_CA_FILE when set.
        return ssl.create_default_context(cafile=django_settings.OTB_SMTP_CA_FILE or None)


def server_label(business) -> str:
    return f"{business.smtp_host}:{business.smtp_port}"


def connection_for(business) -> BusinessSMTPBackend:
    """A connection to the SMTP server of the settings row ``business``."""
    return BusinessSMTPBackend(
        host=business.smtp_host,
        port=business.smtp_port,
        username=business.smtp_username,
        password=business.smtp_password,
        use_tls=business.smtp_use_tls,
        use_ssl=business.smtp_use_ssl,
        timeout=django_settings.OTB_SMTP_TIMEOUT,
        fail_silently=False,
    )


def send(email: EmailMessage, business) -> Outcome:
    """Send ``email`` through the business's server; never raises."""
    if not business.smtp_configured:
        return Outcome(
            sent=False,
            kind=FailureKind.SETTINGS,
            problem=_(
                "E-mail is not set up: enter the SMTP host and the from address in the settings."
            ),
        )
    backend = connection_for(business)
    try:
        backend.open()
        try:
            backend.send_messages([email])
            connection = cast(_AnswerKeeping, backend.connection)  # _SMTP or _SMTP_SSL
            code, answer = connection.last_answer or (250, b"")
            refused = {
                address: (refused_code, _text(refused_answer))
                for address, (refused_code, refused_answer) in (connection.refused or {}).items()
            }
        finally:
            backend.close()
    except Exception as exc:  # every way of failing becomes a recorded attempt
        return failure(exc, business)
    outcome = Outcome(sent=True, code=code, answer=_text(answer), refused=refused)
    if refused:
        outcome.kind = FailureKind.RECIPIENT
        outcome.problem = _(
            "Sent, but the server refused these recipients: %(refused)s. Check the addresses."
        ) % {"refused": _refused_list(refused)}
    return outcome


def _text(answer) -> str:
    if isinstance(answer, bytes):
        return answer.decode("utf-8", "replace")
    return str(answer)


def _refused_list(refused: dict[str, tuple[int, str]]) -> str:
    return "; ".join(
        f"{address} ({code} {_text(answer)})" for address, (code, answer) in refused.items()
    )


def _by_code(code: int, answer: str, *, permanent_kind: str, permanent_problem: str) -> Outcome:
    """SMTP's rule: 4xx is temporary (try again later), 5xx is final."""
    if 400 <= code < 500:
        return Outcome(
            sent=False,
            retry=True,
            kind=FailureKind.TEMPORARY,
            problem=_("The server answered with a temporary error (%(code)s %(answer)s).")
            % {"code": code, "answer": answer},
            code=code,
            answer=answer,
        )
    return Outcome(
        sent=False, kind=permanent_kind, problem=permanent_problem, code=code, answer=answer
    )


def failure(exc: BaseException, business) -> Outcome:
    """The outcome of a failed attempt, in words the user can act on."""
    server = server_label(business)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        answer = _text(exc.smtp_error)
        return Outcome(
            sent=False,
            kind=FailureKind.AUTH,
            problem=_(
                "The SMTP server %(server)s refused the username or password (%(code)s "
                "%(answer)s). Correct them in the settings, then retry."
            )
            % {"server": server, "code": exc.smtp_code, "answer": answer},
            code=exc.smtp_code,
            answer=answer,
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        if "STARTTLS" in str(exc).upper():
            problem = _(
                "The SMTP server %(server)s does not offer STARTTLS. Use SSL/TLS instead "
                "(usually port 465), or ask your provider which to use."
            )
        else:
            problem = _(
                "The SMTP server %(server)s does not accept a login on this connection. "
                "It may need STARTTLS or SSL/TLS turned on, or no username."
            )
        return Outcome(
            sent=False, kind=FailureKind.TLS, problem=problem % {"server": server}, answer=str(exc)
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = {
            address: (code, _text(answer)) for address, (code, answer) in exc.recipients.items()
        }
        if all(400 <= code < 500 for code, _answer in refused.values()):
            return Outcome(
                sent=False,
                retry=True,
                kind=FailureKind.TEMPORARY,
                problem=_("The server refused the recipients for now: %(refused)s.")
                % {"refused": _refused_list(refused)},
                refused=refused,
            )
        return Outcome(
            sent=False,
            kind=FailureKind.RECIPIENT,
            problem=_("The server refused the recipients: %(refused)s. Check the addresses.")
            % {"refused": _refused_list(refused)},
            refused=refused,
        )
    if isinstance(exc, smtplib.SMTPSenderRefused):
        answer = _text(exc.smtp_error)
        return _by_code(
            exc.smtp_code,
            answer,
            permanent_kind=FailureKind.SENDER,
            permanent_problem=_(
                "The server refused the from address %(sender)s (%(code)s %(answer)s). Use an "
                "address your SMTP account may send as."
            )
            % {"sender": _text(exc.sender), "code": exc.smtp_code, "answer": answer},
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        answer = _text(exc.smtp_error)
        return _by_code(
            exc.smtp_code,
            answer,
            permanent_kind=FailureKind.REJECTED,
            permanent_problem=_("The server refused the message (%(code)s %(answer)s).")
            % {"code": exc.smtp_code, "answer": answer},
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return Outcome(
            sent=False,
            kind=FailureKind.TLS,
            problem=_(
                "The certificate of %(server)s could not be verified (%(reason)s). Check that "
                "the SMTP host is the name on the server's certificate."
            )
            % {"server": server, "reason": exc.verify_message or exc.reason},
            answer=str(exc),
        )
    if isinstance(exc, ssl.SSLError):
        return Outcome(
            sent=False,
            kind=FailureKind.TLS,
            problem=_(
                "The secure connection to %(server)s failed (%(reason)s). Check STARTTLS or "
                "SSL/TLS against the port: STARTTLS usually on 587, SSL/TLS on 465."
            )
            % {"server": server, "reason": exc.reason or exc},
            answer=str(exc),
        )
    # smtplib turns a timeout while waiting for an answer into "server disconnected".
    timed_out = isinstance(exc, TimeoutError) or (
        isinstance(exc, smtplib.SMTPServerDisconnected)
        and isinstance(exc.__context__, TimeoutError)
    )
    if timed_out:
        return Outcome(
            sent=False,
            retry=True,
            kind=FailureKind.TIMEOUT,
            problem=_(
                "The SMTP server %(server)s did not answer within %(seconds)s seconds. If this "
                "keeps happening, check the host, the port and STARTTLS or SSL/TLS."
            )
            % {"server": server, "seconds": f"{django_settings.OTB_SMTP_TIMEOUT:g}"},
            answer=str(exc),
        )
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return Outcome(
            sent=False,
            retry=True,
            kind=FailureKind.TEMPORARY,
            problem=_("The SMTP server %(server)s closed the connection unexpectedly.")
            % {"server": server},
            answer=str(exc),
        )
    if isinstance(exc, ConnectionRefusedError):
        return Outcome(
            sent=False,
            kind=FailureKind.UNREACHABLE,
            problem=_("Nothing accepts connections at %(server)s. Check the SMTP host and port.")
            % {"server": server},
            answer=str(exc),
        )
    if isinstance(exc, socket.gaierror):
        return Outcome(
            sent=False,
            kind=FailureKind.UNREACHABLE,
            problem=_("The SMTP host %(host)s could not be found. Check its spelling.")
            % {"host": business.smtp_host},
            answer=str(exc),
        )
    if isinstance(exc, OSError):
        return Outcome(
            sent=False,
            kind=FailureKind.UNREACHABLE,
            problem=_("Could not connect to %(server)s (%(error)s). Check the host and port.")
            % {"server": server, "error": exc.strerror or exc},
            answer=str(exc),
        )
    logger.exception("Unexpected failure sending e-mail through %s", server)
    return Outcome(
        sent=False,
        kind=FailureKind.UNKNOWN,
        problem=_("Sending failed unexpectedly (%(error)s).") % {"error": type(exc).__name__},
        answer=str(exc),
    )
