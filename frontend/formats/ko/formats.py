"""Korean dates as Korean sellers write them: "2026년 12월 2일", "2026. 12. 2. 15:46".

Django's own Korean formats use "2026-12-2 15:46" (a year-month-day without zero padding that no one writes);
everything not set here still comes from Django's Korean formats.
"""

DATE_FORMAT = "Y년 n월 j일"
DATETIME_FORMAT = "Y년 n월 j일 H:i"
SHORT_DATE_FORMAT = "Y. n. j."
SHORT_DATETIME_FORMAT = "Y. n. j. H:i"
MONTH_DAY_FORMAT = "n월 j일"
YEAR_MONTH_FORMAT = "Y년 n월"
TIME_FORMAT = "H:i"
