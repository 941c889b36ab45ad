"""Typed services (CONTRIBUTING.md, "Where code lives"): every operation takes keyword-only
arguments, each with a type, and no ``**fields`` the type checker cannot see; a set of
optional fields is a TypedDict (``**changes: Unpack[SettingsChanges]``). mypy checks the
callers against these types (.ci/run); this test keeps an untyped operation from appearing.
"""

import inspect
import pkgutil
from importlib import import_module
from types import FunctionType

import pytest

import billing.services
from settings_app.models import BusinessSettings
from settings_app.services import SETTINGS_FIELDS

SERVICE_MODULES = [
    "accounts.services",
    *(f"billing.services.{info.name}" for info in pkgutil.iter_modules(billing.services.__path__)),
    "imports.services",
    "links.services",
    "outbox.services",
    "portal.services",
    "quotes.sending",
    "quotes.services",
    "rates.importing",
    "recurring.services",
    "rates.services",
    "settings_app.services",
]


def operations():
    """The public functions of the services modules that are operations: run in a
    transaction by @operation, or acting for a user."""
    for name in SERVICE_MODULES:
        module = import_module(name)
        for attribute, value in vars(module).items():
            if attribute.startswith("_") or not isinstance(value, FunctionType):
                continue
            function = inspect.unwrap(value)
            if function.__module__ != name:
                continue  # imported from elsewhere
            parameters = inspect.signature(function).parameters
            if hasattr(value, "__wrapped__") or "acting_user" in parameters:
                yield pytest.param(function, id=f"{name}.{attribute}")


def test_there_are_operations_to_check():
    found = {param.id for param in operations()}
    assert {"billing.services.invoices.issue_invoice", "outbox.services.send_invoice"} <= found


@pytest.mark.parametrize("function", list(operations()))
def test_operation_takes_typed_keyword_arguments(function):
    signature = inspect.signature(function)
    problems = []
    for parameter in signature.parameters.values():
        if parameter.annotation is inspect.Parameter.empty:
            problems.append(f"{parameter.name} has no type")
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            if "Unpack[" not in str(parameter.annotation):
                problems.append(f"**{parameter.name} is not an Unpack[TypedDict]")
        elif parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
            problems.append(f"{parameter.name} is not keyword-only")
    if signature.return_annotation is inspect.Signature.empty:
        problems.append("no return type")
    assert not problems, problems


def test_settings_changes_name_every_editable_setting():
    """update_business_settings' TypedDict and the model's editable fields agree."""
    editable = {
        field.name
        for field in BusinessSettings._meta.get_fields()
        if field.concrete and field.editable and field.name not in {"id", "updated_at"}
    }
    assert editable == SETTINGS_FIELDS
