from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from api.models import ApiToken


class Command(BaseCommand):
    help = (
        "Create an API token for USERNAME and print its key. The key is shown only this "
        "once: only its hash is stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for, e.g. 'shop sync'.")

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user {username!r}; create it with create_user.")
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive: its tokens would be refused.")
        if len(name) > ApiToken._meta.get_field("name").max_length:
            raise CommandError("--name: at most 100 characters.")
        token, key = ApiToken.objects.create_token(user=user, name=name)
        self.stderr.write(f"Token {token.prefix}… for {username}. Send it as:")
        self.stderr.write("  Authorization: Token <key>")
        self.stdout.write(key)
