from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.second_factor import reset_second_factor
from otb.operations import DomainError


class Command(BaseCommand):
    help = _(
        "Remove a user's second factor (app and backup codes), for one who lost both: the "
        "user signs in with the password and, where it is required, sets a new one up."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        try:
            reset_second_factor(username=username, acting_user=None)
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            _("%(username)s's second factor is removed; they set a new one up.")
            % {"username": username}
        )
