"""The pages a document link opens without a login (SPEC: Client portal and document
links): an invoice's, a credit note's and a client's statement's. otb/urls.py mounts them
under /i/, /c/ and /s/, in the namespaces ``invoice_link``, ``credit_note_link`` and
``statement_link``. (A quote's are the quotes app's, under /q/.)"""

from django.urls import path

from . import public_views as views


def _rest() -> list:
    # Anything else under the prefix (a link cut short or with more added): the same "not
    # found", and, unlike Django's own 404, its path (maybe holding a token) is not logged.
    return [path("", views.nothing_here), path("<path:rest>", views.nothing_here)]


invoice_patterns = [
    path("<str:token>/", views.invoice_page, name="page"),
    path("<str:token>/pdf/", views.invoice_pdf, name="pdf"),
    *_rest(),
]
credit_note_patterns = [
    path("<str:token>/", views.credit_note_page, name="page"),
    path("<str:token>/pdf/", views.credit_note_pdf, name="pdf"),
    *_rest(),
]
statement_patterns = [
    path("<str:token>/", views.statement_page, name="page"),
    path("<str:token>/pdf/", views.statement_pdf, name="pdf"),
    path("<str:token>/csv/", views.statement_csv, name="csv"),
    *_rest(),
]
