"""The refusals of billing's rules: each a ``DomainError`` with its own code."""

from otb.operations import DomainError


class InvoiceLocked(DomainError):
    code = "invoice_locked"


class InvalidTransition(DomainError):
    code = "invalid_transition"


class CreditInsufficient(DomainError):
    code = "credit_insufficient"


class NotFound(DomainError):
    code = "not_found"
