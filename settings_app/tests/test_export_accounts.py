"""The accounts of the accounting exports (settings): each a journal account name, and all
apart from one another; every refusal names its field."""

import pytest
from django.db import connection

from otb.operations import InvalidInput
from settings_app.services import update_business_settings

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name",
    ["assets:  bank", "a;b", "assets::bank", "liabilities:tax:", " assets", "", "[bank]", "x@y"],
)
def test_a_name_a_journal_would_misread_is_refused(business, name):
    with pytest.raises(InvalidInput) as refused:
        update_business_settings(acting_user=None, account_money_received=name)
    assert list(refused.value.errors) == ["account_money_received"]


@pytest.mark.parametrize(
    "changes,field,problem",
    [
        # The same as another: the receivables would be counted as income.
        ({"account_receivable": "income:services"}, "account_income", "income:services"),
        # Under another: a client's receivable is assets:receivable:CODE.
        ({"account_money_received": "assets:receivable:bank"}, "account_money_received", ""),
        # Above another: every tax's account would fall under the receivable.
        ({"account_receivable": "liabilities"}, "account_tax", "liabilities"),
    ],
)
def test_accounts_must_stay_apart(business, changes, field, problem):
    with pytest.raises(InvalidInput) as refused:
        update_business_settings(acting_user=None, **changes)
    assert field in refused.value.errors
    message = refused.value.errors[field][0]
    assert "not the same, and neither under the other" in message
    assert problem in message


def test_accounts_of_the_accountant_s_own_chart_are_kept(business):
    settings = update_business_settings(
        acting_user=None,
        account_receivable="Assets:Accounts Receivable",
        account_income="Revenue:Consulting",
        account_tax="Liabilities:Sales Tax",
        account_money_received="Assets:Checking",
        account_opening="Equity:Opening Balances",
    )
    assert settings.account_receivable == "Assets:Accounts Receivable"


@pytest.mark.skipif(connection.vendor != "mysql", reason="needs DATABASE_URL=mysql://…")
@pytest.mark.django_db(transaction=True)
def test_the_settings_table_can_be_rebuilt_on_mariadb():
    """MariaDB refuses to rebuild a table whose VARCHARs could pass 8 KB a row (an ALTER
    of a column may rebuild it): the settings' long texts are TEXT (the account names).
    Transactional: an ALTER commits on MariaDB, so a test's own transaction would leave
    its rows behind for the next tests."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE settings_app_businesssettings FORCE")
