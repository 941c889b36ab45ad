"""``manage.py import_csv``: an import too large for a page (SPEC: Exports and imports), or
one run from a script. The same steps as the page: the file read, its columns mapped (the
kept mapping, a product's preset or the columns' names, then each --map), every row checked
and written in one transaction, and nothing written unless every row is valid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from imports import presets
from imports.kinds import KINDS, Kind
from imports.reading import FileRefused, Table, read_table
from imports.services import ColumnMap, import_table, preview_table, suggested_mapping
from otb.dates import clean_date
from otb.operations import DomainError, InvalidInput, NotPermitted, ensure_permitted
from otb.progress import ProgressBar, terminal

# --map HEADER=- (or =skip): the column is not imported.
SKIP = ("-", "skip")


def _imported(kind: str, n: int) -> str:
    messages = {
        "clients": ngettext("Imported %(n)d client.", "Imported %(n)d clients.", n),
        "services": ngettext("Imported %(n)d service.", "Imported %(n)d services.", n),
        "balances": ngettext(
            "Imported %(n)d opening balance.", "Imported %(n)d opening balances.", n
        ),
    }
    return messages[kind] % {"n": n}


def _would_import(kind: str, n: int) -> str:
    messages = {
        "clients": ngettext(
            "%(n)d client would be imported; nothing written.",
            "%(n)d clients would be imported; nothing written.",
            n,
        ),
        "services": ngettext(
            "%(n)d service would be imported; nothing written.",
            "%(n)d services would be imported; nothing written.",
            n,
        ),
        "balances": ngettext(
            "%(n)d opening balance would be imported; nothing written.",
            "%(n)d opening balances would be imported; nothing written.",
            n,
        ),
    }
    return messages[kind] % {"n": n}


class Command(BaseCommand):
    help = _(
        "Import clients, services or opening balances from a CSV file (UTF-8 or "
        "Windows-1252), without the page's limit on rows. The columns are mapped as the page "
        "maps them (the mapping kept for these columns, a known product's export, or the "
        "columns' names); --map changes it. Every row is checked first: nothing is imported "
        "unless every row is valid. A progress bar is shown when standard error is a terminal."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(KINDS), help=_("What the file holds."))
        parser.add_argument("file", metavar="FILE", help=_("The CSV file."))
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="HEADER=FIELD",
            help=_(
                "Import the column HEADER as FIELD (again for more columns); FIELD - or skip "
                "leaves the column out."
            ),
        )
        parser.add_argument(
            "--cut-over",
            metavar="YYYY-MM-DD",
            help=_("The day opening balances are dated (default: today; never after it)."),
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("Check every row and say what would be imported; write nothing."),
        )
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help=_(
                "Import as this user, who must be allowed to (default: the command itself, "
                "as every command acts)."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        kind = KINDS[options["kind"]]
        acting_user = _acting_user(options["user"], kind)
        try:
            cut_over = clean_date(
                options["cut_over"], field="cut_over", label=_("Cut-over day"), required=False
            )
        except InvalidInput as exc:
            raise CommandError(exc.message) from None  # "Cut-over day: …" names the option
        path = Path(options["file"]).expanduser()
        table = _table(path)
        mapping, source = suggested_mapping(kind, table.headers)
        mapping = _mapped(kind, table, mapping, options["map"])
        self.stdout.write(
            ngettext(
                "%(file)s: %(n)d row (%(encoding)s).",
                "%(file)s: %(n)d rows (%(encoding)s).",
                len(table.rows),
            )
            % {"file": path, "n": len(table.rows), "encoding": table.encoding}
        )
        self.stdout.write(_("Mapping from %(source)s:") % {"source": source})
        for header in table.headers:
            if header in mapping:
                self.stdout.write(f"  {header} → {mapping[header]}")
        left_out = [header for header in table.headers if header not in mapping]
        if left_out:
            self.stdout.write(_("Not imported: %(columns)s") % {"columns": ", ".join(left_out)})

        bar = None
        if (stream := terminal(self.stderr)) is not None:
            bar = ProgressBar(stream, len(table.rows), counting=_("rows"))
        try:
            progress = (lambda done, total: bar.reach(done)) if bar is not None else None
            # A dry run is the preview; the import and its kept mapping are one operation.
            run = preview_table if options["dry_run"] else import_table
            outcome = run(
                kind=kind,
                table=table,
                mapping=mapping,
                acting_user=acting_user,
                cut_over=cut_over,
                progress=progress,
            )
        except DomainError as exc:
            if bar is not None:
                bar.stop()
            # The cut-over day after today: refused before any row is read.
            raise CommandError(exc.message) from None
        if bar is not None:
            if outcome.ok:
                bar.finish()
            else:
                bar.stop()

        if not outcome.ok:
            for problem in outcome.problems:
                self.stderr.write(str(problem))
            if outcome.stopped:
                self.stderr.write(
                    _("Stopped after %(n)d problems; the rest of the file was not checked.")
                    % {"n": len(outcome.problems)}
                )
            raise CommandError(
                ngettext(
                    "%(n)d problem: nothing was imported.",
                    "%(n)d problems: nothing was imported.",
                    len(outcome.problems),
                )
                % {"n": len(outcome.problems)}
            )
        if options["dry_run"]:
            self.stdout.write(_would_import(kind.name, outcome.imported))
            return
        self.stdout.write(_imported(kind.name, outcome.imported))


def _acting_user(username: str | None, kind: Kind) -> Any:
    """The user named by --user, allowed to import ``kind``; without one, None: the command
    itself, as every command acts (its audit records say "manage.py import_csv")."""
    if username is None:
        return None
    users = get_user_model()._default_manager
    user = users.filter(**{users.model.USERNAME_FIELD: username}).first()
    if user is None:
        raise CommandError(_("--user: there is no user %(name)s.") % {"name": username})
    try:
        for permission in kind.permissions:
            ensure_permitted(user, permission, _("import %(kind)s") % {"kind": kind.noun})
    except NotPermitted:
        raise CommandError(
            _("--user: %(name)s is not allowed to import %(kind)s.")
            % {"name": username, "kind": kind.noun}
        ) from None
    return user


def _table(path: Path) -> Table:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CommandError(_("FILE: %(path)s does not exist.") % {"path": path}) from None
    except IsADirectoryError:
        raise CommandError(_("FILE: %(path)s is a folder; name a file.") % {"path": path}) from None
    except OSError as exc:
        raise CommandError(
            _("FILE: %(path)s cannot be read: %(why)s.") % {"path": path, "why": exc.strerror}
        ) from None
    try:
        return read_table(data)
    except FileRefused as exc:
        raise CommandError(f"{path}: {exc.message}") from None


def _mapped(kind: Kind, table: Table, mapping: ColumnMap, changes: list[str]) -> ColumnMap:
    """``mapping`` with each --map HEADER=FIELD applied, in order."""
    mapping = dict(mapping)
    fields = [target.name for target in kind.targets]
    for change in changes:
        given_header, equals, field = (part.strip() for part in change.rpartition("="))
        if not equals or not given_header or not field:
            raise CommandError(
                _('--map %(change)s: write HEADER=FIELD, e.g. --map "Company=name".')
                % {"change": change}
            )
        header = _header(table, given_header)
        if header is None:
            raise CommandError(
                _("--map %(change)s: the file has no column “%(header)s”; its columns: %(all)s.")
                % {"change": change, "header": given_header, "all": ", ".join(table.headers)}
            )
        if field.casefold() in SKIP:
            mapping.pop(header, None)
        elif field in fields:
            mapping[header] = field
        else:
            raise CommandError(
                _("--map %(change)s: “%(field)s” is no field of %(kind)s; one of %(fields)s, or -.")
                % {"change": change, "field": field, "kind": kind.noun, "fields": ", ".join(fields)}
            )
    return mapping


def _header(table: Table, given: str) -> str | None:
    """The file's header ``given`` names: exactly, else in any case and spacing."""
    if given in table.headers:
        return given
    wanted = presets.normalised(given)
    return next((h for h in table.headers if presets.normalised(h) == wanted), None)
