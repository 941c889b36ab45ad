"""The progress bar of the commands that work through many rows (``export_books``,
``import_csv``): one line of a terminal, redrawn in place, and only on a terminal: a log
file, a pipe or cron's mail gets nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import IO, cast

from django.core.management.base import OutputWrapper
from django.utils.translation import gettext as _

# A terminal is redrawn at most this often (seconds): a bar drawn for every row read
# would cost more than reading it.
REDRAW_EVERY = 0.2
BAR_WIDTH = 30


class ProgressBar:
    """``[#####.....] 1,234/5,000 rows`` on one line of a terminal; ``counting`` is what
    the numbers count ("rows")."""

    def __init__(
        self,
        stream: IO[str],
        total: int,
        *,
        counting: str,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.stream, self.total, self.counting, self.clock = stream, total, counting, clock
        self.done = 0
        self.drawn_at: float | None = None

    def step(self, count: int) -> None:
        self.reach(self.done + count)

    def reach(self, done: int) -> None:
        self.done = done
        now = self.clock()
        if self.drawn_at is None or now - self.drawn_at >= REDRAW_EVERY:
            self.draw(now)

    def draw(self, now: float) -> None:
        self.drawn_at = now
        # A count may pass the total (an export reads some documents twice): never the bar.
        done = min(self.done, self.total)
        filled = done * BAR_WIDTH // self.total if self.total else BAR_WIDTH
        counted = _("%(done)s/%(total)s %(counting)s") % {
            "done": f"{done:,}",
            "total": f"{self.total:,}",
            "counting": self.counting,
        }
        self.stream.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {counted}")
        self.stream.flush()

    def finish(self) -> None:
        """The whole bar: work that leaves out some of what is counted (an export's
        payments, say) has still done all it had to."""
        self.done = self.total
        self.stop()

    def stop(self) -> None:
        """The bar as it is, and the line ended (for what comes after: an error)."""
        self.draw(self.clock())
        self.stream.write("\n")
        self.stream.flush()


def terminal(stderr: OutputWrapper) -> IO[str] | None:
    """The terminal a command's standard error writes to, or None when it is none."""
    if not stderr.isatty():
        return None
    # The stream itself: the wrapper would end every redraw with a new line.
    return cast(IO[str], stderr._out)
