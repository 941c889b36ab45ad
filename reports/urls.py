from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("outstanding/", views.outstanding, name="outstanding"),
    path("revenue/", views.revenue, name="revenue"),
    path("tax/", views.tax, name="tax"),
    path("exchange-gains/", views.exchange_gains, name="exchange_gains"),
    path("quotes/", views.quotes, name="quotes"),
    path("statement/", views.statement, name="statement"),
    path("statement/send/", views.statement_send, name="statement_send"),
]
