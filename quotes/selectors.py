"""Reads of quotes: the state each shows (expired derived in SQL, as ``rules.shown_state``
derives it in Python), the list's filters, the dashboard's "awaiting an answer", and the
change history as the detail page shows it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Case, Count, F, Q, QuerySet, Sum, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.lists import client_code
from billing.money import CENT
from otb.numbers import format_number
from otb.operations import InvalidInput

from .models import Quote, QuoteChange, QuoteState, QuoteStatus


def expired(today: datetime.date) -> Q:
    """Quotes that show as expired on ``today`` (in the business's time zone): sent,
    neither accepted nor declined, and valid until a day before it (SPEC: Quotes). A
    condition on the stored columns, which the ``quote_status_valid`` index serves."""
    return Q(status=QuoteStatus.SENT, valid_until__lt=today)


def with_shown_state(quotes: QuerySet[Quote], *, today: datetime.date) -> QuerySet[Quote]:
    """Annotate ``shown_state``: the state each quote shows on ``today``."""
    return quotes.annotate(
        shown_state=Case(
            When(expired(today), then=Value(QuoteState.EXPIRED.value)),
            default=F("status"),
            output_field=models.CharField(),
        )
    )


def shown_as(quotes: QuerySet[Quote], state: str, *, today: datetime.date) -> QuerySet[Quote]:
    """The quotes that show as ``state`` on ``today``: "sent" leaves out the expired ones,
    "expired" is the sent ones past their date."""
    if state == QuoteState.EXPIRED:
        return quotes.filter(expired(today))
    if state == QuoteState.SENT:
        return quotes.filter(status=QuoteStatus.SENT).exclude(expired(today))
    return quotes.filter(status=state)


def filter_quotes(
    quotes: QuerySet[Quote], *, today: datetime.date, state: str = "", client: str = ""
) -> QuerySet[Quote]:
    """The quotes of the list page (and of the API, with the same values).

    - ``state``: one of QuoteState, as shown on ``today``; expired is derived from the
      stored status and "valid until", in SQL (``shown_as``).
    - ``client``: the client's code, any case (``acme`` is ACME).
    """
    state = state.strip()
    if state:
        if state not in QuoteState.values:
            raise InvalidInput.single(
                "state",
                _("%(name)s: use one of %(values)s.")
                % {"name": "state", "values": ", ".join(QuoteState.values)},
            )
        quotes = shown_as(quotes, state, today=today)
    if client.strip():
        quotes = quotes.filter(client__code=client_code(client))
    return quotes


# --- The dashboard ------------------------------------------------------------------------
@dataclass
class AwaitingInCurrency:
    currency: str
    count: int
    value: Decimal


@dataclass
class AwaitingAnswer:
    """Sent quotes still open for an answer (not expired), their value per currency, and
    how many expired unanswered."""

    per_currency: list[AwaitingInCurrency] = field(default_factory=list)
    expired_count: int = 0

    @property
    def count(self) -> int:
        return sum(row.count for row in self.per_currency)


def awaiting_answer(*, today: datetime.date) -> AwaitingAnswer:
    """The dashboard's "quotes awaiting an answer" on ``today``, in one query."""
    still_open = ~expired(today)
    rows = (
        Quote.objects.filter(status=QuoteStatus.SENT)
        .order_by()
        .values("currency")
        .annotate(
            open_count=Count("id", filter=still_open),
            open_value=Sum("total", filter=still_open),
            expired_count=Count("id", filter=expired(today)),
        )
        .order_by("currency")
    )
    figures = AwaitingAnswer()
    for row in rows:
        figures.expired_count += row["expired_count"]
        if row["open_count"]:
            figures.per_currency.append(
                AwaitingInCurrency(
                    currency=row["currency"],
                    count=row["open_count"],
                    # SQLite hands sums back without their scale.
                    value=Decimal(row["open_value"] or 0).quantize(CENT),
                )
            )
    return figures


# --- The change history -------------------------------------------------------------------
CHANGE_LABELS = {
    "client": gettext_lazy("Client"),
    "currency": gettext_lazy("Currency"),
    "issue_date": gettext_lazy("Quote date"),
    "valid_until": gettext_lazy("Valid until"),
    "notes": gettext_lazy("Notes"),
    "terms": gettext_lazy("Terms"),
    "discount_kind": gettext_lazy("Quote discount"),
    "discount_value": gettext_lazy("Discount (percent or amount)"),
    "subtotal": gettext_lazy("Subtotal"),
    "discount_total": gettext_lazy("Discount"),
    "tax_total": gettext_lazy("Tax"),
    "total": gettext_lazy("Total"),
    "lines": gettext_lazy("Lines"),
}


@dataclass
class ChangedField:
    label: str
    old: Any
    new: Any
    # For the lines: each line as a short text, before and after.
    old_lines: list[str] = field(default_factory=list)
    new_lines: list[str] = field(default_factory=list)


def _line_text(line: dict[str, Any]) -> str:
    """A line of the history as "Roof: 3 × 120 = 360.00"."""
    try:
        quantity = format_number(Decimal(line["quantity"]))
        price = format_number(Decimal(line["unit_price"]))
        amount = format_number(Decimal(line["amount"]), min_places=2)
    except (KeyError, TypeError, ArithmeticError):  # a snapshot of another shape
        return str(line.get("description", ""))
    return f"{line.get('description', '')}: {quantity} × {price} = {amount}"


def changed_fields(change: QuoteChange) -> list[ChangedField]:
    """A recorded change of a sent quote, field by field, as the detail page lists it."""
    rows = []
    for name, values in change.changes.items():
        label = str(CHANGE_LABELS.get(name, name))
        if name == "lines":
            rows.append(
                ChangedField(
                    label=label,
                    old=None,
                    new=None,
                    old_lines=[_line_text(line) for line in values.get("old") or []],
                    new_lines=[_line_text(line) for line in values.get("new") or []],
                )
            )
        else:
            rows.append(ChangedField(label=label, old=values.get("old"), new=values.get("new")))
    return rows


def change_history(quote: Quote) -> list[tuple[QuoteChange, list[ChangedField]]]:
    return [
        (change, changed_fields(change))
        for change in quote.changes.select_related("changed_by").order_by("changed_at", "id")
    ]
