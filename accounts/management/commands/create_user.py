import os
import secrets

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.roles import ROLES
from accounts.services import UserExists, create_user
from otb.operations import DomainError, InvalidInput

PASSWORD_ENV_VAR = "OTB_ADMIN_PASSWORD"


class Command(BaseCommand):
    help = _(
        "Create a user with a role (administrator, bookkeeper or viewer), or with --reset "
        "give an existing user a new password and role."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=list(ROLES))
        parser.add_argument("--email", default="")
        source = parser.add_mutually_exclusive_group()
        source.add_argument(
            "--password",
            help=_(
                "The password. It shows in the shell history and the process list: prefer "
                "--random-password, or the %(var)s environment variable."
            )
            % {"var": PASSWORD_ENV_VAR},
        )
        source.add_argument(
            "--random-password",
            action="store_true",
            help=_("Generate a strong password and print it."),
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help=_("If the user exists, set the new password and role."),
        )

    def handle(self, *args, username, role, email, password, random_password, reset, **options):
        if random_password:
            password = secrets.token_urlsafe(18)
        elif not password:
            password = os.environ.get(PASSWORD_ENV_VAR, "")
        if not password:
            raise CommandError(
                _(
                    "No password given: use --password or --random-password, or set the "
                    "%(var)s environment variable."
                )
                % {"var": PASSWORD_ENV_VAR}
            )
        try:
            user = create_user(
                username=username,
                role=role,
                email=email,
                password=password,
                acting_user=None,
                reset=reset,
            )
        except UserExists:
            raise CommandError(
                _("User %(username)s already exists; use --reset to set a new password and role")
                % {"username": username}
            ) from None
        except InvalidInput as exc:
            messages = [message for field in exc.errors.values() for message in field]
            if "password" in exc.errors:
                raise CommandError(
                    _("Password refused: %(problems)s") % {"problems": " ".join(messages)}
                ) from None
            raise CommandError(" ".join(messages)) from None
        except DomainError as exc:
            raise CommandError(str(exc)) from None

        if reset:
            done = _("User %(username)s saved with role %(role)s.")
        else:
            done = _("User %(username)s created with role %(role)s.")
        self.stdout.write(done % {"username": user.get_username(), "role": role})
        if random_password:
            # Not translated: scripts (the installer) read this line.
            self.stdout.write(f"Password for {user.get_username()}: {password}")
