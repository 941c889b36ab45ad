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
        "and the invoices cancelled this month (as the revenue report counts them)."
    )
    credited_this_month = MoneyField(
        help_text="The credit notes issued this month, as the negative they count for in "
        "invoiced_this_month."
    )
    collected_this_month = MoneyField(
        help_text="Payments confirmed this month by their date, less confirmed payments "
        "reversed this month (a reversal counts when it is recorded) and refunds."
    )
    outstanding_in_base = MoneyField(
        help_text="outstanding in the base currency: each open invoice's balance at the rate "
        "it was issued at (its base total's share), rounded per invoice."
    )
    overdue_in_base = MoneyField(help_text="overdue in the base currency, likewise.")
    invoiced_in_base = MoneyField(
        help_text="invoiced_this_month in the base currency: the stored base totals."
    )
    credited_in_base = MoneyField(
        help_text="credited_this_month in the base currency: the stored base totals."
    )
    collected_in_base = MoneyField(
        help_text="collected_this_month in the base currency: each payment at its own rate."
    )
    without_rate = serializers.IntegerField(
        help_text="Documents and payments without an exchange rate (from before rates were "
        "kept: manage.py check_rates --fill), left out of the *_in_base figures."
    )
    refunds_without_base = serializers.IntegerField(
        help_text="Refunds in this currency this month (not the base currency): refunds keep "
        "no base figure, so they are left out of collected_in_base."
    )


class BaseTotalsSerializer(serializers.Serializer):
    currency = serializers.CharField(help_text="The base currency.")
    outstanding = MoneyField()
    overdue = MoneyField()
    overdue_count = serializers.IntegerField()
    invoiced_this_month = MoneyField()
    credited_this_month = MoneyField()
    collected_this_month = MoneyField()
    without_rate = serializers.IntegerField()
    refunds_without_base = serializers.IntegerField()


class DashboardSerializer(serializers.Serializer):
    today = serializers.DateField()
    month_start = serializers.DateField()
    per_currency = CurrencyFiguresSerializer(many=True)
    in_base = BaseTotalsSerializer(
        help_text="Every currency's figures added in the base currency: the sums of their "
        "*_in_base figures (stored at issue and payment rates; nothing converted again)."
    )


@extend_schema(tags=["dashboard"])
class DashboardView(ApiViewMixin, generics.GenericAPIView):
    """What is owed, overdue, invoiced and collected this month, per currency, the
    business's default currency first, each also in the base currency; and their totals in
    the base currency."""

    serializer_class = DashboardSerializer
    read_permissions = ["billing.view_invoice"]

    def get(self, request: Request) -> Response:
        business = get_business_settings()
        figures = dashboard_figures(
            today=business_today(business), default_currency=business.default_currency
        )
        return Response(self.get_serializer(figures).data)
