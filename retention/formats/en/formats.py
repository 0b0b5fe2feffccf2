# The desk's English is used in Latvia: day before month, 24-hour clock, as in lv and ru.
DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "d.m.Y"
DATETIME_FORMAT = "j M Y H:i"
SHORT_DATETIME_FORMAT = "d.m.Y H:i"
TIME_FORMAT = "H:i"
FIRST_DAY_OF_WEEK = 1  # Monday
