"""The office pages of billing, one module per area."""

import re

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import render

from otb.forms import show_refusal
from otb.operations import DomainError


def refused(request, exc, back_url: str):
    """An operation refused something that has no form field to show it on: say why on the
    page the user came from."""
    messages.error(request, exc.message)
    return HttpResponseRedirect(back_url)


def confirm_page(request, document, *, form, title: str, button: str, danger=False):
    """The page of an action on ``document`` that asks for details or a confirmation
    (billing/confirm.html); ``title`` is already filled in."""
    return render(
        request,
        "billing/confirm.html",
        {
            "object": document,
            "form": form,
            "title": title,
            "button": button,
            "danger": danger,
            "back_url": document.get_absolute_url(),
        },
    )


def action_with_form(
    request,
    document,
    *,
    argument: str,
    form_class,
    operation,
    success: str,
    title: str,
    button: str,
    danger=False,
    initial=None,
):
    """An action on ``document`` (a quote, a schedule) that takes a form's details. GET:
    the form on a page of its own; POST (from it, or from the document's page): call
    ``operation`` with ``argument=document`` and the form's fields, then go back to the
    document. A refusal goes beside its field, or else to the document's page."""
    posted = request.method == "POST"
    form = form_class(request.POST) if posted else form_class(initial=initial)
    if posted and form.is_valid():
        try:
            operation(**{argument: document}, acting_user=request.user, **form.cleaned_data)
        except DomainError as exc:
            if exc.field not in form.fields:
                return refused(request, exc, document.get_absolute_url())
            show_refusal(form, exc)
        else:
            messages.success(request, success)
            return HttpResponseRedirect(document.get_absolute_url())
    return confirm_page(request, document, form=form, title=title, button=button, danger=danger)


def object_or_none(model, pk):
    """The row whose id a query string or form names, or None for anything else (a missing,
    non-numeric or unknown id is no reason for a server error)."""
    if not isinstance(pk, str) or not re.fullmatch(r"[0-9]{1,18}", pk):
        return None
    return model.objects.filter(pk=int(pk)).first()
