"""A local SMTP server that accepts every message and keeps it: for trying the e-mail
features without a real server (the demo's settings point at it)."""

import email
import email.policy
import logging
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = _(
        "Run a local SMTP server (no TLS, no login) that accepts every message, prints a line "
        "for it and saves it as an .eml file. For trying e-mail out; never for production."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=1025)
        parser.add_argument("--dir", default=str(Path(settings.VAR_DIR) / "mail"))

    def handle(self, *args, host, port, dir, **options):
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-connection chatter
        folder = Path(dir)
        folder.mkdir(parents=True, exist_ok=True)
        out = self.stdout

        class Keep:
            async def handle_DATA(self, server, session, envelope):
                stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
                path = folder / f"{stamp}.eml"
                path.write_bytes(envelope.content)
                parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
                attachments = [part.get_filename() for part in parsed.iter_attachments()]
                out.write(
                    f"{parsed['Subject']!s} | to {', '.join(envelope.rcpt_tos)}"
                    f"{' | attached ' + ', '.join(attachments) if attachments else ''} | {path}"
                )
                return "250 Message accepted for delivery"

        controller = Controller(Keep(), hostname=host, port=port)
        try:
            controller.start()
        except OSError as exc:
            raise CommandError(
                _(
                    "Cannot listen on %(host)s:%(port)s (%(error)s): another mail server may "
                    "be running there already. Choose another with --port."
                )
                % {"host": host, "port": port, "error": exc.strerror or exc}
            ) from None
        self.stdout.write(
            _("Mail sink on %(host)s:%(port)s, saving to %(dir)s. Stop it with Ctrl+C.")
            % {"host": host, "port": port, "dir": folder}
        )
        # Written to a file by the quick start, which waits for this line: not buffered.
        self.stdout.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()
