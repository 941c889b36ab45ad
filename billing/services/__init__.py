"""The operations of billing: every write to clients, services, invoices and payments.

Each is one function, one transaction (``@operation``), used by every caller: the admin, the
pages, the commands and the API. Each re-reads the rows it changes with ``select_for_update``
in the one lock order (``locking``), checks the rule of SPEC.md, changes state, posts its
money event through ``billing.accounting``, records who did it, and raises ``DomainError``
(nothing changed) when the rule refuses. Arguments are keyword-only; ``acting_user`` is the
user who asks, or None for the system itself (maintenance, demo data).

By subject:

- ``clients``: clients and services;
- ``invoices``: drafts, issue, changes after issue, cancellation (``figures``: what an
  invoice is made of, cleaned and computed);
- ``payments``: payments, client credit, manual entries on a client's account;
- ``credit_notes``: credit notes made from issued invoices, issued from their own series;
- ``refunds``: client credit paid back.

Callers import the operations from here (``from billing import services``); the rules and
errors they raise are re-exported for them too.
"""

from ..errors import CreditInsufficient, InvalidTransition, InvoiceLocked, NotFound
from ..rules import derive_status, invoice_lock_reason, tax_applies
from .clients import (
    CLIENT_FIELDS,
    SERVICE_FIELDS,
    create_client,
    create_service,
    delete_client,
    update_client,
    update_service,
)
from .credit_notes import (
    CreditLineData,
    create_credit_note,
    delete_credit_note,
    issue_credit_note,
    update_credit_note,
)
from .figures import MAX_LINES, MAX_QUANTITY, MAX_UNIT_PRICE, LineData
from .invoices import (
    COUNTER_NAME,
    cancel_invoice,
    create_draft,
    delete_draft,
    duplicate_invoice,
    issue_invoice,
    preview_invoice,
    refresh_overdue,
    update_invoice,
)
from .payments import (
    MEMO_MAX_LENGTH,
    apply_client_credit,
    confirm_payment,
    post_manual_credit,
    post_manual_debit,
    post_opening_balance,
    record_payment,
    reverse_payment,
    update_payment,
)
from .refunds import record_refund, reverse_refund

__all__ = [
    "CLIENT_FIELDS",
    "COUNTER_NAME",
    "MAX_LINES",
    "MAX_QUANTITY",
    "MAX_UNIT_PRICE",
    "MEMO_MAX_LENGTH",
    "SERVICE_FIELDS",
    "CreditInsufficient",
    "CreditLineData",
    "InvalidTransition",
    "InvoiceLocked",
    "LineData",
    "NotFound",
    "apply_client_credit",
    "cancel_invoice",
    "confirm_payment",
    "create_client",
    "create_credit_note",
    "create_draft",
    "create_service",
    "delete_client",
    "delete_credit_note",
    "delete_draft",
    "derive_status",
    "duplicate_invoice",
    "invoice_lock_reason",
    "issue_credit_note",
    "issue_invoice",
    "post_manual_credit",
    "post_manual_debit",
    "post_opening_balance",
    "preview_invoice",
    "record_payment",
    "record_refund",
    "refresh_overdue",
    "reverse_payment",
    "reverse_refund",
    "tax_applies",
    "update_client",
    "update_credit_note",
    "update_invoice",
    "update_payment",
    "update_service",
]
