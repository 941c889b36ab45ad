from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from maintenance.archive import BackupError, default_output_dir, prune, write_backup


class Command(BaseCommand):
    help = _(
        "Write one backup archive (database dump made with the database's own tool, uploaded "
        "files, a manifest with checksums). Run it daily; --keep N deletes older archives."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output-dir",
            help=_("Folder for the archive (default: OTB_BACKUP_DIR, or VAR_DIR/backups)."),
        )
        parser.add_argument(
            "--keep",
            type=int,
            help=_(
                "After writing, keep only the newest N archives in the folder (default: "
                "OTB_BACKUP_KEEP; 0 or unset keeps all)."
            ),
        )

    def handle(self, *args, output_dir=None, keep=None, **options):
        if keep is not None and keep < 1:
            raise CommandError(_("--keep must be 1 or more."))
        if keep is None and settings.OTB_BACKUP_KEEP < 0:
            raise CommandError(_("OTB_BACKUP_KEEP must be 0 (keep all) or more."))
        keep = keep or settings.OTB_BACKUP_KEEP or None
        directory = Path(output_dir) if output_dir else default_output_dir()
        try:
            archive = write_backup(directory)
            removed = prune(directory, keep) if keep else []
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(_("Backup written: %(path)s") % {"path": archive})
        for path in removed:
            self.stdout.write(_("Old backup deleted: %(path)s") % {"path": path})
