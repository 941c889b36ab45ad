"""``GET /api/v1/dashboard/``: the dashboard's figures, from the selector the office
dashboard and the reports read (``billing.selectors.dashboard_figures``; "collected" is
``ledger.selectors.collections``)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from billing.selectors import dashboard_figures
from settings_app.selectors import business_today, get_business_settings

from .fields import MoneyField
from .views.base import ApiViewMixin


class CurrencyFiguresSerializer(serializers.Serializer):
    currency = serializers.CharField()
    outstanding = MoneyField()
    overdue = MoneyField()
    overdue_count = serializers.IntegerField()
    invoiced_this_month = MoneyField(
        help_text="Totals of the invoices issued this month, less the credit notes issued "
        "this month (as the revenue report counts them)."
    )
    credited_this_month = MoneyField(
        help_text="The credit notes issued this month, as the negative they count for in "
        "invoiced_this_month."
    )
    collected_this_month = MoneyField(
        help_text="Payments confirmed this month by their date, less confirmed payments "
        "reversed this month (a reversal counts when it is recorded) and refunds."
    )


class DashboardSerializer(serializers.Serializer):
    today = serializers.DateField()
    month_start = serializers.DateField()
    per_currency = CurrencyFiguresSerializer(many=True)


@extend_schema(tags=["dashboard"])
class DashboardView(ApiViewMixin, generics.GenericAPIView):
    """What is owed, overdue, invoiced and collected this month, per currency, the
    business's default currency first."""

    serializer_class = DashboardSerializer
    read_permissions = ["billing.view_invoice"]

    def get(self, request: Request) -> Response:
        business = get_business_settings()
        figures = dashboard_figures(
            today=business_today(business), default_currency=business.default_currency
        )
        return Response(self.get_serializer(figures).data)
