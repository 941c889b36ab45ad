from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.services import lift_locks, unlock_user
from accounts.throttle import ADDRESS, scoped_key
from otb.operations import DomainError


class Command(BaseCommand):
    help = _(
        "Lift the sign-in lock of a user (its failed attempts are forgotten); with --address, "
        "also the lock of the address it signs in from."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--address", action="append", default=[], metavar="IP")

    def handle(self, *args, username, address, **options):
        try:
            unlock_user(username=username, acting_user=None)
            if address:
                lift_locks(keys=[scoped_key(ADDRESS, ip) for ip in address], acting_user=None)
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(_("%(username)s may sign in again.") % {"username": username})
