from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from otb.secrets import reencrypt_all


class Command(BaseCommand):
    help = _(
        "Encrypt every stored secret (the SMTP password, waiting reset links) again with the "
        "first key of OTB_ENCRYPTION_KEYS. To change the key: put a new one first, keep the "
        "old ones after it, run this, then remove the old ones. --new-key prints a new key."
    )

    def add_arguments(self, parser):
        parser.add_argument("--new-key", action="store_true", help=_("Print a new key and stop."))

    def handle(self, *args, new_key, **options):
        if new_key:
            self.stdout.write(Fernet.generate_key().decode())
            return
        written, unreadable = reencrypt_all()
        self.stdout.write(_("%(n)d secret(s) encrypted with the first key.") % {"n": written})
        if unreadable:
            raise CommandError(
                _(
                    "%(n)d secret(s) could not be opened with any key of OTB_ENCRYPTION_KEYS: "
                    "put the key they were written with back in the list, or enter them again "
                    "(the SMTP password on the settings page)."
                )
                % {"n": unreadable}
            )
