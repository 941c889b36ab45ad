from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from maintenance.archive import BackupError, app_version, restore_backup


class Command(BaseCommand):
    help = _(
        "Bring an empty instance back to the state of a backup archive made by “backup”. "
        "Every checksum is checked before anything is changed."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", help=_("The otb-backup-….tar.gz file."))
        parser.add_argument(
            "--force",
            action="store_true",
            help=_("Replace the database even though it already holds data."),
        )

    def handle(self, *args, archive, force=False, **options):
        try:
            restored = restore_backup(archive, force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            _("Restored the backup of %(when)s (%(files)d uploaded files).")
            % {"when": restored.created_at, "files": restored.files}
        )
        if restored.app_version != app_version():
            self.stdout.write(
                _(
                    "The backup was made by version %(old)s; this is %(new)s. "
                    "Run “manage.py migrate” now."
                )
                % {"old": restored.app_version, "new": app_version()}
            )
