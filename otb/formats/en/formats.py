"""How English pages, e-mails and PDFs write dates and times: one style everywhere, the
month as a word so that 02/12 is never read as 12 February. Times carry their zone's
abbreviation (the business's, settings_app.zone), as "Dec 3, 2026, 13:35 EST"."""

DATE_FORMAT = "M j, Y"
SHORT_DATE_FORMAT = DATE_FORMAT
DATETIME_FORMAT = "M j, Y, H:i T"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "F j"
