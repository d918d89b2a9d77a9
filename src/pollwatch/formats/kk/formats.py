# Kazakh number and date formats: Django ships translations for Kazakh but no formats, so
# without these numbers lose their digit grouping ("672041") and dates read as in English.
# Conventions as in Kazakhstan's official documents: 672 041; 15.03.2026.
DATE_FORMAT = "d.m.Y"
SHORT_DATE_FORMAT = "d.m.Y"
DATETIME_FORMAT = "d.m.Y H:i"
SHORT_DATETIME_FORMAT = "d.m.Y H:i"
TIME_FORMAT = "H:i"
FIRST_DAY_OF_WEEK = 1  # Monday
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "\xa0"  # non-breaking space
NUMBER_GROUPING = 3
