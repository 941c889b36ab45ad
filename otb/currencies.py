"""The currencies the product offers: plain data, no arithmetic (that is billing/money.py).

Here, below every app, so that the settings (the business's default currency) and billing
(each client's and invoice's currency) offer the same list without one importing the other.
"""

# Currencies the product offers, with their minor unit where it is not 2 decimals. Amounts
# are stored with 2 decimals, so currencies with 3 (BHD, KWD, ...) are not offered.
CURRENCIES: dict[str, str] = {
    "AUD": "Australian dollar",
    "BRL": "Brazilian real",
    "CAD": "Canadian dollar",
    "CHF": "Swiss franc",
    "CNY": "Chinese yuan",
    "CZK": "Czech koruna",
    "DKK": "Danish krone",
    "EUR": "Euro",
    "GBP": "Pound sterling",
    "HKD": "Hong Kong dollar",
    "HUF": "Hungarian forint",
    "INR": "Indian rupee",
    "ISK": "Icelandic króna",
    "JPY": "Japanese yen",
    "KRW": "South Korean won",
    "MXN": "Mexican peso",
    "NOK": "Norwegian krone",
    "NZD": "New Zealand dollar",
    "PLN": "Polish złoty",
    "RON": "Romanian leu",
    "SEK": "Swedish krona",
    "SGD": "Singapore dollar",
    "USD": "US dollar",
    "ZAR": "South African rand",
}
MINOR_UNIT_DECIMALS: dict[str, int] = {"ISK": 0, "JPY": 0, "KRW": 0}
CURRENCY_CHOICES = [(code, f"{code} – {name}") for code, name in CURRENCIES.items()]
