from django.contrib import admin
from django.urls import include, path

from audit.views import audit_list
from billing import urls as billing_urls
from billing.views import search
from billing.views.dashboard import dashboard
from links import urls as links_urls
from otb.health import healthz
from otb.media import uploaded_file
from outbox import urls as outbox_urls
from portal import public_urls as portal_link_urls
from portal import urls as portal_urls
from quotes import public_urls as quote_link_urls
from quotes import send_urls as quote_send_urls
from quotes import urls as quotes_urls
from recurring import urls as recurring_urls
from settings_app.views import settings_page, tax_form

admin.site.site_header = "OTB Billing"
admin.site.site_title = "OTB Billing"
admin.site.index_title = "Back office"
# The app list beside every page took a fifth of a 1366 px screen from the lists' amount
# columns; the home page and the breadcrumbs lead to every model.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", dashboard, name="home"),
    path("healthz", healthz, name="healthz"),
    # A quote's own link, for its client: no login (quotes/public_views.py).
    path("q/", include((quote_link_urls.urlpatterns, "quote_link"))),
    path("i/", include((portal_link_urls.invoice_patterns, "invoice_link"))),
    path("c/", include((portal_link_urls.credit_note_patterns, "credit_note_link"))),
    path("s/", include((portal_link_urls.statement_patterns, "statement_link"))),
    # The client portal: its contacts sign in with an e-mailed link; never an office login.
    path("portal/", include((portal_urls.urlpatterns, "portal"))),
    path("", include("accounts.urls")),
    path("clients/", include((billing_urls.client_patterns, "clients"))),
    path("services/", include((billing_urls.service_patterns, "services"))),
    # The outbox's invoice pages first, ahead of billing's catch-all "<str:number>/...".
    path(
        "invoices/",
        include((outbox_urls.invoice_patterns + billing_urls.invoice_patterns, "invoices")),
    ),
    path(
        "credit-notes/",
        include(
            (outbox_urls.credit_note_patterns + billing_urls.credit_note_patterns, "credit_notes")
        ),
    ),
    # Sending a quote and revoking its links (quotes/send_urls.py), beside its pages.
    path("quotes/", include((quote_send_urls.urlpatterns, "quote_sending"))),
    path("quotes/", include((quotes_urls.urlpatterns, "quotes"))),
    path("recurring/", include((recurring_urls.urlpatterns, "recurring"))),
    # Revoking a document link from its document's page (links/views.py).
    path("links/", include((links_urls.urlpatterns, "links"))),
    path("payments/", include((billing_urls.payment_patterns, "payments"))),
    path("refunds/", include((billing_urls.refund_patterns, "refunds"))),
    path("search/", search.search, name="search"),
    path("search/clients/", search.client_choices, name="search-clients"),
    path("settings/", settings_page, name="settings"),
    path("settings/taxes/new/", tax_form, name="tax-new"),
    path("settings/taxes/<int:pk>/", tax_form, name="tax-edit"),
    path("outbox/", include("outbox.urls")),
    path("reports/", include("reports.urls")),
    path("exports/", include("exports.urls")),
    path("imports/", include("imports.urls")),
    path("rates/", include("rates.urls")),
    path("audit/", audit_list, name="audit"),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    # Uploads (the logo), to whoever may read them (otb.media), not from a public folder.
    path("media/<path:path>", uploaded_file, name="uploaded-file"),
]
