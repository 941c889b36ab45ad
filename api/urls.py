from django.contrib.auth.decorators import login_not_required, login_required
from django.urls import include, path, re_path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import status
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from .dashboard import DashboardView
from .errors import error_body
from .views import (
    audit,
    clients,
    credit_notes,
    exports,
    invoices,
    ledger,
    messages,
    payments,
    quotes,
    rates,
    recurring,
    services,
    settings,
    taxes,
)

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("clients", clients.ClientViewSet, basename="client")
router.register("services", services.ServiceViewSet, basename="service")
router.register("taxes", taxes.TaxViewSet, basename="tax")
router.register("exchange-rates", rates.ExchangeRateViewSet, basename="exchange-rate")
router.register("invoices", invoices.InvoiceViewSet, basename="invoice")
router.register("credit-notes", credit_notes.CreditNoteViewSet, basename="credit-note")
router.register("quotes", quotes.QuoteViewSet, basename="quote")
router.register(
    "recurring-invoices", recurring.RecurringScheduleViewSet, basename="recurring-invoice"
)
router.register("payments", payments.PaymentViewSet, basename="payment")
router.register("refunds", credit_notes.RefundViewSet, basename="refund")
router.register("messages", messages.MessageViewSet, basename="message")
router.register("audit", audit.AuditViewSet, basename="audit")


@login_not_required
@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@authentication_classes([])
@permission_classes([])
def not_found(request, rest=""):
    """Unknown addresses under /api/ answer JSON, like the rest of the API."""
    return Response(
        error_body("not_found", _("There is nothing at this address.")),
        status=status.HTTP_404_NOT_FOUND,
    )


app_name = "api"
urlpatterns = [
    path(
        "schema/",
        login_not_required(SpectacularAPIView.as_view(permission_classes=[IsAuthenticated])),
        name="schema",
    ),
    # A page for people: behind the login page like every other page (session auth).
    path(
        "docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="api:schema")),
        name="docs",
    ),
    path(
        "v1/clients/<str:code>/ledger/",
        ledger.ClientLedgerView.as_view(),
        name="client-ledger",
    ),
    path(
        "v1/clients/<str:code>/statement/send/",
        ledger.ClientStatementSendView.as_view(),
        name="client-statement-send",
    ),
    path("v1/settings/", settings.SettingsView.as_view(), name="settings"),
    path("v1/dashboard/", DashboardView.as_view(), name="dashboard"),
    path("v1/exports/", exports.ExportView.as_view(), name="exports"),
    path("v1/", include(router.urls)),
    re_path(r"^(?P<rest>.*)$", not_found),
]
