"""The office's page action on a document link: revoking it. One view for every kind of
document; it goes back to the page of the link's document (links.office)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from otb.operations import DomainError

from . import office
from .models import DocumentLink
from .services import revoke_link

# Ids beyond a signed 64-bit integer cannot exist; SQLite would fail on them rather than
# find nothing.
MAX_ID = 2**63 - 1


@require_POST
def revoke(request, pk: int) -> HttpResponse:
    """Revoke the link (with the reason typed beside the button, if any): whoever follows
    it then gets "not found". Back to its document's page, saying what happened."""
    if pk > MAX_ID:
        raise Http404("No link with this id.")
    link = get_object_or_404(DocumentLink.objects.select_related(*office.RELATED), pk=pk)
    if not office.may_revoke(request.user, link.kind):
        raise PermissionDenied
    back = office.document_url(link)
    try:
        revoke_link(link=link, acting_user=request.user, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(back)
    messages.success(
        request,
        _("The link sent to %(recipient)s is revoked: it no longer opens the document.")
        % {"recipient": link.recipient},
    )
    return HttpResponseRedirect(back)
