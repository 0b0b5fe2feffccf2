"""The demo plan catalogue: what was sold when, at what price, with what equipment, and what
each plan is in English, Latvian and Russian."""

from datetime import date

from retention.demo.rows import PlanRow
from subscribers.models import Plan

_FLAT = Plan.Kind.FLAT.value
_TIME = Plan.Kind.METERED_TIME.value
_VOLUME = Plan.Kind.METERED_VOLUME.value
_BUSINESS = Plan.Kind.BUSINESS.value

# New-customer prices of plans no longer sold are those of the comparable plan sold today:
# that is what a loyal subscriber on the old plan would pay if they signed up again.
PLANS: tuple[PlanRow, ...] = (
    PlanRow("optika-100", "Optika 100", _FLAT, 100, 50, 2499, 1599, True, "r", 2012, 9999, 30, "fibre"),  # noqa: E501
    PlanRow("optika-300", "Optika 300", _FLAT, 300, 100, 2999, 2499, True, "r", 2016, 9999, 30, "fibre"),  # noqa: E501
    PlanRow("optika-1000", "Optika 1000", _FLAT, 1000, 300, 3999, 2999, True, "r", 2020, 9999, 12, "fibre"),  # noqa: E501
    PlanRow("optika-300-tv", "Optika 300 + TV", _FLAT, 300, 100, 4299, 2999, True, "r", 2017, 9999, 12, "fibre+tv"),  # noqa: E501
    PlanRow("dsl-20", "DSL 20", _FLAT, 20, 2, 2299, 1499, False, "r", 2000, 2016, 8, "dsl"),
    PlanRow("kabelis-50", "Kabelis 50 + TV", _FLAT, 50, 10, 3199, 2999, False, "r", 2010, 2019, 8, "cable+tv"),  # noqa: E501
    PlanRow("stundas-30", "Stundas 30", _TIME, 30, 10, 899, 699, True, "r", 2010, 9999, 4, "dsl"),
    PlanRow("stundas-10", "Stundas 10", _TIME, 20, 5, 599, 499, False, "r", 2000, 2018, 2, "dsl"),
    PlanRow("mobilais-10gb", "Mobilais 10 GB", _VOLUME, 50, 10, 999, 849, True, "r", 2014, 9999, 6, "lte"),  # noqa: E501
    PlanRow("mobilais-50gb", "Mobilais 50 GB", _VOLUME, 150, 30, 1599, 1199, True, "r", 2018, 9999, 6, "lte"),  # noqa: E501
    PlanRow("lauku-lte-100gb", "Lauku LTE 100 GB", _VOLUME, 100, 20, 1999, 1199, False, "r", 2015, 2022, 5, "lte"),  # noqa: E501
    PlanRow("bizness-100", "Bizness 100", _BUSINESS, 100, 100, 4999, 4499, False, "s", 2000, 2019, 15, "fibre"),  # noqa: E501
    PlanRow("bizness-300", "Bizness 300", _BUSINESS, 300, 300, 5999, 4499, True, "s", 2014, 9999, 40, "fibre"),  # noqa: E501
    PlanRow("bizness-mobilais-100gb", "Bizness Mobilais 100 GB", _VOLUME, 150, 50, 2499, 1999, True, "s", 2016, 9999, 30, "lte"),  # noqa: E501
    PlanRow("bizness-1000-koplietosana", "Bizness 1000 koplietošana", _BUSINESS, 1000, 1000, 8999, 6999, True, "sc", 2018, 9999, 25, "fibre"),  # noqa: E501
    PlanRow("korporativais-birojs-500", "Korporatīvais Birojs 500", _BUSINESS, 500, 500, 19900, 15900, True, "c", 2012, 9999, 40, "fibre"),  # noqa: E501
    PlanRow("korporativais-10g", "Korporatīvais 10G", _BUSINESS, 10000, 10000, 49900, 39900, True, "c", 2016, 9999, 30, "fibre"),  # noqa: E501
)  # fmt: skip

# What each plan is, in English, Latvian and Russian: the plan's name is its brand, the same in
# every language (see Plan.description_en).
PLAN_DESCRIPTIONS: dict[str, tuple[str, str, str]] = {
    "optika-100": ("Fibre internet", "Optiskais internets", "Оптический интернет"),
    "optika-300": ("Fibre internet", "Optiskais internets", "Оптический интернет"),
    "optika-1000": ("Fibre internet", "Optiskais internets", "Оптический интернет"),
    "optika-300-tv": (
        "Fibre internet and TV",
        "Optiskais internets un televīzija",
        "Оптический интернет и ТВ",
    ),
    "dsl-20": (
        "DSL internet over the phone line",
        "DSL internets pa tālruņa līniju",
        "DSL-интернет по телефонной линии",
    ),
    "kabelis-50": (
        "Cable internet and TV",
        "Kabeļinternets un televīzija",
        "Кабельный интернет и ТВ",
    ),
    "stundas-30": (
        "30 hours online a month, then by the hour",
        "30 stundas internetā mēnesī, tālāk par katru stundu",
        "30 часов в сети в месяц, дальше почасово",
    ),
    "stundas-10": (
        "10 hours online a month, then by the hour",
        "10 stundas internetā mēnesī, tālāk par katru stundu",
        "10 часов в сети в месяц, дальше почасово",
    ),
    "mobilais-10gb": (
        "Mobile internet, 10 GB a month",
        "Mobilais internets, 10 GB mēnesī",
        "Мобильный интернет, 10 ГБ в месяц",
    ),
    "mobilais-50gb": (
        "Mobile internet, 50 GB a month",
        "Mobilais internets, 50 GB mēnesī",
        "Мобильный интернет, 50 ГБ в месяц",
    ),
    "lauku-lte-100gb": (
        "LTE internet for the countryside, 100 GB a month",
        "LTE internets laukiem, 100 GB mēnesī",
        "LTE-интернет для сельской местности, 100 ГБ в месяц",
    ),
    "bizness-100": (
        "Fibre internet for business",
        "Optiskais internets uzņēmumiem",
        "Оптический интернет для бизнеса",
    ),
    "bizness-300": (
        "Fibre internet for business",
        "Optiskais internets uzņēmumiem",
        "Оптический интернет для бизнеса",
    ),
    "bizness-mobilais-100gb": (
        "Mobile internet for business, 100 GB a month",
        "Mobilais internets uzņēmumiem, 100 GB mēnesī",
        "Мобильный интернет для бизнеса, 100 ГБ в месяц",
    ),
    "bizness-1000-koplietosana": (
        "Fibre internet shared by the whole office",
        "Optiskais internets visam birojam kopā",
        "Оптический интернет на весь офис",
    ),
    "korporativais-birojs-500": (
        "Fibre internet for companies with many sites",
        "Optiskais internets uzņēmumiem ar daudzām filiālēm",
        "Оптический интернет для компаний с филиалами",
    ),
    "korporativais-10g": (
        "Corporate fibre at 10 Gbit/s",
        "Korporatīvais optiskais internets 10 Gbit/s",
        "Корпоративный оптический интернет 10 Гбит/с",
    ),
}

# How each metered and business plan prices what its fee does not include: hours or GB
# included and the price of each extra one, or users included and the price per extra user,
# and the most the extras add to a month (None: no cap). Flat plans have no such rule.
PLAN_PRICING: dict[str, dict[str, object]] = {
    "stundas-30": {"included_hours": 30, "extra_hour_price": "0.40", "extras_cap": "15.00"},
    "stundas-10": {"included_hours": 10, "extra_hour_price": "0.50", "extras_cap": None},
    "mobilais-10gb": {"included_gb": 10, "extra_gb_price": "0.50", "extras_cap": "20.00"},
    "mobilais-50gb": {"included_gb": 50, "extra_gb_price": "0.30", "extras_cap": "20.00"},
    "lauku-lte-100gb": {"included_gb": 100, "extra_gb_price": "0.20", "extras_cap": None},
    "bizness-mobilais-100gb": {"included_gb": 100, "extra_gb_price": "0.20", "extras_cap": "30.00"},
    "bizness-100": {"included_seats": 5, "extra_seat_price": "4.00", "extras_cap": None},
    "bizness-300": {"included_seats": 10, "extra_seat_price": "3.00", "extras_cap": None},
    "bizness-1000-koplietosana": {
        "included_seats": 25,
        "extra_seat_price": "2.00",
        "extras_cap": None,
    },
    "korporativais-birojs-500": {
        "included_seats": 100,
        "extra_seat_price": "1.50",
        "extras_cap": None,
    },
    "korporativais-10g": {"included_seats": 500, "extra_seat_price": "1.00", "extras_cap": None},
}

# Annual indexation of list prices: (date, percent). Subscribers past their promo get these
# as price_change events; today's list price already includes them all.
INDEXATIONS = ((date(2022, 4, 1), 5), (date(2023, 4, 1), 8), (date(2025, 4, 1), 3))

# What is installed for each plan's gear: kind, model, serial prefix.
GEAR = {
    "ont_combo": ("ont", "Nokia G-2425G-A", "ALCL"),
    "ont": ("ont", "Huawei EG8010H", "HWTC"),
    "router": ("router", "TP-Link Archer AX55", "TPL"),
    "router_keenetic": ("router", "Keenetic Giga KN-1011", "KN"),
    "modem_dsl": ("modem", "Zyxel VMG3625-T20A", "S19"),
    "modem_cable": ("modem", "Technicolor TC4400", "CP"),
    "lte": ("router", "Huawei B535-232", "HWB"),
    "lte_zte": ("router", "ZTE MF289F", "ZTE"),
    "stb": ("set_top_box", "Kaonmedia KSTB6077", "KAON"),
    "mesh": ("mesh", "TP-Link Deco M5", "DECO"),
    "business": ("router", "MikroTik RB4011iGS+", "MT"),
}
