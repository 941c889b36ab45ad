"""``manage.py export_books``: an accounting export written on the server (a scheduled job,
a copy for the accountant), the same bytes as the page and the API give."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.utils.translation import gettext as _

from exports.inputs import as_options, clean_export, format_keys
from otb.operations import InvalidInput
from otb.progress import ProgressBar, terminal


class Command(BaseCommand):
    help = _(
        "Write the accounting export of a date range: the documents issued and the payments "
        "recorded from --start to --end, both included. To --output (written in full, then "
        "put in place: never half a file) or to standard output. A progress bar is shown "
        "when standard error is a terminal."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", help=_("The format: one of %s.") % format_keys())
        parser.add_argument("--start", help=_("The first day, YYYY-MM-DD."))
        parser.add_argument("--end", help=_("The last day, YYYY-MM-DD."))
        parser.add_argument(
            "--output",
            help=_("The file to write (replaced if it exists; default: standard output)."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            export = clean_export(
                format_key=options["format"], start=options["start"], end=options["end"]
            )
        except InvalidInput as exc:
            raise CommandError(as_options(exc)) from None
        output = options["output"]
        target = _target(output) if output else None
        if target is None and export.format.extension == "zip" and self.stdout.isatty():
            raise CommandError(
                _("--output: the %(format)s export is a zip; name a file to write it to.")
                % {"format": export.format.key}
            )
        books = export.books()
        bar = None
        if (stream := terminal(self.stderr)) is not None:
            bar = ProgressBar(stream, books.count(), counting=_("documents and movements"))
            books.progress = bar.step
        try:
            chunks = export.format.write(books)
            if target is None:
                _write_out(_binary(self.stdout), chunks)
            else:
                _write_whole(target, chunks)
        except BaseException:
            if bar is not None:
                bar.stop()
            raise
        if bar is not None:
            bar.finish()
        if target is not None:
            self.stdout.write(
                _("Export written: %(path)s (%(start)s to %(end)s, %(format)s)")
                % {
                    "path": target,
                    "start": export.start,
                    "end": export.end,
                    "format": export.format.label,
                }
            )


def _target(output: str) -> Path:
    """The file to write, refused before anything is read when it cannot be written."""
    target = Path(output).expanduser().absolute()
    if target.is_dir():
        raise CommandError(_("--output: %(path)s is a folder; name a file.") % {"path": target})
    if not target.parent.is_dir():
        raise CommandError(
            _("--output: the folder %(folder)s does not exist.") % {"folder": target.parent}
        )
    return target


def _write_whole(target: Path, chunks: Any) -> None:
    """The chunks into a file beside ``target`` (private to this user, as every file of
    the books), renamed onto it once complete: a failure half-way leaves no half file,
    and an older export at ``target`` stays as it was."""
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as file:
            for chunk in chunks:
                file.write(chunk)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise


def _write_out(stream: IO[bytes], chunks: Any) -> None:
    """The chunks to standard output; a reader that stops early (``| head``) ends the
    export quietly, as other command-line tools do."""
    try:
        for chunk in chunks:
            stream.write(chunk)
        stream.flush()
    except BrokenPipeError:
        # Python would complain again when it flushes at exit: point stdout at nothing.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


def _binary(stdout: OutputWrapper) -> IO[bytes]:
    """The bytes under the command's standard output: sys.stdout's buffer, or the binary
    stream a caller gave ``call_command``."""
    stream: Any = stdout._out
    return getattr(stream, "buffer", stream)
