"""Deterministic demo data for the desk, and the fastest way to load it.

``DemoGenerator`` makes the data: plans, then subscribers one by one, each with its equipment
and timeline. The same options (subscribers, seed, events per subscriber, heavy accounts and
the reference date) always give the same rows. Generation is one piece of code; only writing
differs by database:

* PostgreSQL: one transaction that detaches the indexes and key constraints of the three big
  tables, truncates them, streams every row through ``COPY ... FREEZE`` and rebuilds exactly
  the indexes and constraints it found (read from the catalogue, so migrations stay the single
  definition). A million subscribers with twenty million events take minutes, not hours.
* Anything else (SQLite during development): ``bulk_create`` in chunks.

The story the data tells is the one DESIGN.md section 1 describes: first-year promos that end
in a price rise, long-tenure subscribers paying more than new customers, outages that hit one
network node of a region at once (and the support tickets that follow), missed payments and
arrears, equipment on loan, and a churn-risk score whose reasons come from those facts.

Timestamps are handled as integer seconds since the epoch (UTC) and prices as integer cents
until the row is written: the generator runs twenty million times and datetimes or Decimals
would dominate its cost.
"""

from __future__ import annotations

import bisect
import json
import operator
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any, NamedTuple

from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from subscribers.models import Equipment, Plan, Subscriber, TimelineEvent

DAY = 86_400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

# Heavy subscribers are corporate accounts with tens of thousands of events, so that deep
# timeline pages can be measured. Their account numbers do not depend on the seed and have ten
# digits; everybody else's have nine, so the two never collide.
_HEAVY_ACCOUNT_BASE = 9_000_000_000
_ACCOUNT_MULTIPLIER = 48_271  # prime, so i -> i * m mod 9e8 is a bijection: unique numbers
_ACCOUNT_SPACE = 900_000_000


def heavy_account_numbers(n: int) -> list[str]:
    """The account numbers of the first ``n`` heavy subscribers, whatever the seed."""
    return [str(_HEAVY_ACCOUNT_BASE + k) for k in range(1, n + 1)]


@dataclass(frozen=True)
class SeedOptions:
    subscribers: int = 2000
    seed: int = 42
    events_per_subscriber: int = 20
    heavy: int = 2
    heavy_events: int = 2000
    today: date | None = None  # the reference date; the data is relative to it

    def as_dict(self) -> dict[str, Any]:
        return {
            "subscribers": self.subscribers,
            "seed": self.seed,
            "events_per_subscriber": self.events_per_subscriber,
            "heavy": self.heavy,
            "heavy_events": self.heavy_events,
        }


# --- Rows ----------------------------------------------------------------------------------
# Plain tuples in model field order; the writers turn them into COPY text or model instances.


class PlanRow(NamedTuple):
    code: str
    name: str
    kind: str
    download_mbps: int
    upload_mbps: int
    list_cents: int
    new_cents: int
    is_sold: bool
    segments: str  # r = residential, s = small business, c = corporate
    sold_from: int  # year
    sold_until: int  # last year sold
    weight: int
    gear: str  # equipment profile: fibre, dsl, cable, lte


class SubscriberRow(NamedTuple):
    id: int
    account_number: str
    name: str
    phone: str
    email: str
    language: str
    time_zone: str
    region: str
    segment: str
    status: str
    signup_date: date
    plan_id: int
    monthly_cents: int
    promo_ends_on: date | None
    balance_cents: int
    arrears_cents: int
    payment_method: str
    do_not_call: bool
    do_not_email: bool
    do_not_sms: bool
    churn_risk: int
    churn_risk_reasons: str  # JSON text


class EquipmentRow(NamedTuple):
    id: int
    subscriber_id: int
    kind: str
    model_name: str
    serial: str
    status: str
    return_method: str
    return_due_on: date | None
    shipped_on: date | None
    returned_on: date | None


# (id, subscriber_id, kind, occurred_at as epoch seconds, source, external_id, summary, data JSON)
EventRow = tuple[int, int, str, int, str, str | None, str, str]
# An event before it has its id: (epoch seconds, kind, source, external_id, summary, data JSON).
# An external_id of "" asks for a support ticket number, made from the id.
_Draft = tuple[int, str, str, str | None, str, str]


@dataclass
class Bundle:
    subscriber: SubscriberRow
    equipment: list[EquipmentRow]
    events: list[EventRow]


# --- Pools ---------------------------------------------------------------------------------

REGIONS = ("Rīga", "Pierīga", "Kurzeme", "Vidzeme", "Zemgale", "Latgale")
_REGION_WEIGHTS = (34, 20, 12, 11, 12, 11)
# Share of Russian speakers by region; Latgale and Rīga have the most.
_RUSSIAN_SHARE = {
    "Rīga": 0.40,
    "Pierīga": 0.25,
    "Kurzeme": 0.12,
    "Vidzeme": 0.08,
    "Zemgale": 0.14,
    "Latgale": 0.55,
}
# Outages per network node per year: rural fibre and old copper fail more often.
_OUTAGE_RATE = {
    "Rīga": 0.2,
    "Pierīga": 0.3,
    "Kurzeme": 0.35,
    "Vidzeme": 0.4,
    "Zemgale": 0.35,
    "Latgale": 0.6,
}
_REGION_TOWNS = {
    "Rīga": ("Imanta", "Purvciems", "Āgenskalns", "Teika", "Ķengarags", "Centrs", "Ziepniekkalns"),
    "Pierīga": ("Mārupe", "Ādaži", "Ķekava", "Salaspils", "Olaine", "Baloži", "Carnikava"),
    "Kurzeme": ("Liepāja", "Ventspils", "Kuldīga", "Talsi", "Saldus", "Tukums"),
    "Vidzeme": ("Valmiera", "Cēsis", "Sigulda", "Gulbene", "Madona", "Limbaži"),
    "Zemgale": ("Jelgava", "Bauska", "Dobele", "Jēkabpils", "Aizkraukle"),
    "Latgale": ("Daugavpils", "Rēzekne", "Ludza", "Krāslava", "Preiļi", "Balvi"),
}

_LV_MALE = (
    "Jānis", "Andris", "Pēteris", "Mārtiņš", "Edgars", "Aivars", "Kārlis", "Juris", "Raivis",
    "Artūrs", "Guntis", "Uldis", "Valdis", "Roberts", "Dāvis", "Gints", "Normunds", "Ēriks",
    "Oskars", "Rihards", "Kristaps", "Toms", "Emīls", "Ojārs", "Imants", "Agris", "Māris",
    "Aigars", "Ivars", "Ainārs",
)  # fmt: skip
_LV_FEMALE = (
    "Anna", "Līga", "Inese", "Ilze", "Kristīne", "Dace", "Laura", "Sanita", "Ieva", "Agnese",
    "Zane", "Evija", "Baiba", "Liene", "Marta", "Elīna", "Madara", "Sandra", "Gunta", "Inga",
    "Ināra", "Dzintra", "Vija", "Māra", "Anita", "Rūta", "Sintija", "Lāsma", "Santa", "Daiga",
)  # fmt: skip
# Latvian surnames agree with gender: (masculine, feminine).
_LV_SURNAMES = (
    ("Bērziņš", "Bērziņa"), ("Ozoliņš", "Ozoliņa"), ("Kalniņš", "Kalniņa"),
    ("Jansons", "Jansone"), ("Liepiņš", "Liepiņa"), ("Krūmiņš", "Krūmiņa"),
    ("Balodis", "Balode"), ("Eglītis", "Eglīte"), ("Zariņš", "Zariņa"),
    ("Pētersons", "Pētersone"), ("Vītols", "Vītola"), ("Kļaviņš", "Kļaviņa"),
    ("Siliņš", "Siliņa"), ("Vanags", "Vanaga"), ("Lācis", "Lāce"), ("Kārkliņš", "Kārkliņa"),
    ("Grīnbergs", "Grīnberga"), ("Lapiņš", "Lapiņa"), ("Sproģis", "Sproģe"),
    ("Dūmiņš", "Dūmiņa"), ("Bērzs", "Bērza"), ("Mednis", "Medne"), ("Āboliņš", "Āboliņa"),
    ("Celmiņš", "Celmiņa"), ("Rozenbergs", "Rozenberga"), ("Strazdiņš", "Strazdiņa"),
    ("Upītis", "Upīte"), ("Zālītis", "Zālīte"), ("Priede", "Priede"), ("Ābele", "Ābele"),
    ("Jēkabsons", "Jēkabsone"), ("Avotiņš", "Avotiņa"), ("Šmits", "Šmite"),
    ("Žagars", "Žagare"), ("Ķēniņš", "Ķēniņa"), ("Gailis", "Gaile"), ("Freimanis", "Freimane"),
    ("Andersons", "Andersone"), ("Vilks", "Vilka"), ("Lūsis", "Lūse"), ("Ziediņš", "Ziediņa"),
    ("Skujiņš", "Skujiņa"), ("Krastiņš", "Krastiņa"), ("Puriņš", "Puriņa"),
    ("Dzenis", "Dzene"), ("Kalējs", "Kalēja"), ("Sīlis", "Sīle"), ("Caune", "Caune"),
)  # fmt: skip
# Russian speakers' names as Latvian documents spell them...
_RU_MALE = (
    "Aleksandrs", "Sergejs", "Dmitrijs", "Andrejs", "Vladimirs", "Igors", "Jurijs", "Nikolajs",
    "Oļegs", "Mihails", "Aleksejs", "Viktors", "Konstantīns", "Pāvels", "Maksims", "Artjoms",
    "Deniss", "Romāns", "Vitālijs", "Genādijs",
)  # fmt: skip
_RU_FEMALE = (
    "Jeļena", "Olga", "Tatjana", "Natālija", "Irina", "Svetlana", "Marina", "Jūlija",
    "Anastasija", "Oksana", "Ludmila", "Gaļina", "Valentīna", "Jekaterina", "Viktorija",
    "Marija", "Larisa", "Ņina", "Alla", "Anna",
)  # fmt: skip
_RU_SURNAMES = (
    ("Ivanovs", "Ivanova"), ("Petrovs", "Petrova"), ("Smirnovs", "Smirnova"),
    ("Kuzņecovs", "Kuzņecova"), ("Popovs", "Popova"), ("Vasiļjevs", "Vasiļjeva"),
    ("Sokolovs", "Sokolova"), ("Mihailovs", "Mihailova"), ("Novikovs", "Novikova"),
    ("Fjodorovs", "Fjodorova"), ("Morozovs", "Morozova"), ("Volkovs", "Volkova"),
    ("Aleksejevs", "Aleksejeva"), ("Lebedevs", "Lebedeva"), ("Semjonovs", "Semjonova"),
    ("Jegorovs", "Jegorova"), ("Pavlovs", "Pavlova"), ("Kozlovs", "Kozlova"),
    ("Stepanovs", "Stepanova"), ("Nikolajevs", "Nikolajeva"), ("Orlovs", "Orlova"),
    ("Andrejevs", "Andrejeva"), ("Makarovs", "Makarova"), ("Zaharovs", "Zaharova"),
    ("Solovjovs", "Solovjova"), ("Beļajevs", "Beļajeva"), ("Žukovs", "Žukova"),
    ("Gončarovs", "Gončarova"), ("Šitovs", "Šitova"), ("Čerņavskis", "Čerņavska"),
)  # fmt: skip
# ...and, for about a fifth of them, in Cyrillic as typed in at a shop.
_RU_CYR_MALE = (
    "Александр", "Сергей", "Дмитрий", "Андрей", "Владимир", "Игорь", "Юрий", "Николай",
    "Олег", "Михаил",
)  # fmt: skip
_RU_CYR_FEMALE = (
    "Елена", "Ольга", "Татьяна", "Наталья", "Ирина", "Светлана", "Марина", "Юлия",
    "Анастасия", "Оксана",
)  # fmt: skip
_RU_CYR_SURNAMES = (
    ("Иванов", "Иванова"), ("Петров", "Петрова"), ("Смирнов", "Смирнова"),
    ("Кузнецов", "Кузнецова"), ("Попов", "Попова"), ("Соколов", "Соколова"),
    ("Морозов", "Морозова"), ("Волков", "Волкова"), ("Лебедев", "Лебедева"),
    ("Козлов", "Козлова"), ("Новиков", "Новикова"), ("Орлов", "Орлова"),
)  # fmt: skip
_EN_FIRST = (
    "James", "Oliver", "Harry", "Jack", "Thomas", "Daniel", "Michael", "David", "Emma",
    "Olivia", "Sophie", "Charlotte", "Emily", "Sarah", "Laura", "Hannah",
)  # fmt: skip
_EN_SURNAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Evans",
    "Walsh", "O'Brien", "Murphy", "Clarke", "Hughes", "Wright", "Kowalski", "Schmidt",
)  # fmt: skip
_LT_NAMES = (
    "Tomas Kazlauskas", "Jonas Petrauskas", "Rūta Jankauskienė", "Mantas Stankevičius",
    "Greta Vasiliauskaitė", "Lukas Žukauskas", "Eglė Paulauskienė", "Darius Butkus",
)  # fmt: skip
_BUSINESS_ADJ = (
    "Zaļā", "Baltā", "Zelta", "Saulainā", "Jaunā", "Vecā", "Lielā", "Mazā", "Ziemeļu",
    "Dienvidu", "Rīgas", "Kurzemes", "Latgales", "Vidzemes", "Zemgales", "Jūras", "Dzintara",
    "Meža", "Upes", "Kalnu",
)  # fmt: skip
_BUSINESS_NOUN = (
    "Pļava", "Bura", "Osta", "Maiznīca", "Aptieka", "Darbnīca", "Ceptuve", "Klīnika", "Būve",
    "Loģistika", "Serviss", "Tipogrāfija", "Viesnīca", "Kafejnīca", "Skola", "Dārzs",
    "Autoserviss", "Grāmatvedība", "Frizētava", "Veterinārklīnika",
)  # fmt: skip
_CORPORATE_NAMES = (
    "AS \"Baltijas Loģistikas Centrs\"", "SIA \"Nordic Retail Group\"",
    "AS \"Latvijas Kuģniecības Serviss\"", "SIA \"Rīgas Biroju Parks\"",
    "AS \"Daugavas Enerģija\"", "SIA \"Amber Contact Centre\"", "AS \"Vidzemes Slimnīca\"",
    "SIA \"Kurzemes Ostu Termināls\"", "AS \"Zemgales Piens\"", "SIA \"Latgales Koks\"",
    "AS \"Baltic Fintech Hub\"", "SIA \"Jūrmalas Kūrorts\"",
)  # fmt: skip

_TRANSLIT = str.maketrans(
    {
        **dict(zip("āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ", "acegiklnsuzACEGIKLNSUZ", strict=True)),
        "ė": "e", "ę": "e", "į": "i", "ų": "u", "ą": "a",
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z",
        "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p",
        "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch",
        "ш": "sh", "щ": "sch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
        "ё": "e", "'": "", "\"": "", " ": ".",
    }
)  # fmt: skip


def _ascii(text: str) -> str:
    return text.lower().translate(_TRANSLIT)


_PERSONAL_DOMAINS = (
    "inbox.lv",
    "gmail.com",
    "inbox.lv",
    "gmail.com",
    "apollo.lv",
    "tvnet.lv",
    "outlook.com",
    "yahoo.com",
    "one.lv",
)
_RU_DOMAINS = ("inbox.lv", "gmail.com", "mail.ru", "inbox.lv", "gmail.com", "yandex.ru")

# --- Plans ---------------------------------------------------------------------------------

_FLAT = Plan.Kind.FLAT.value
_TIME = Plan.Kind.METERED_TIME.value
_VOLUME = Plan.Kind.METERED_VOLUME.value
_BUSINESS = Plan.Kind.BUSINESS.value

# New-customer prices of plans no longer sold are those of the comparable plan sold today:
# that is what a loyal subscriber on the old plan would pay if they signed up again.
PLANS: tuple[PlanRow, ...] = (
    PlanRow("optika-100", "Optika 100", _FLAT, 100, 50, 2499, 1499, True, "r", 2012, 9999, 30, "fibre"),  # noqa: E501
    PlanRow("optika-300", "Optika 300", _FLAT, 300, 100, 2999, 1999, True, "r", 2016, 9999, 30, "fibre"),  # noqa: E501
    PlanRow("optika-1000", "Optika 1000", _FLAT, 1000, 300, 3999, 2799, True, "r", 2020, 9999, 12, "fibre"),  # noqa: E501
    PlanRow("optika-300-tv", "Optika 300 + TV", _FLAT, 300, 100, 4299, 2999, True, "r", 2017, 9999, 12, "fibre+tv"),  # noqa: E501
    PlanRow("dsl-20", "DSL 20", _FLAT, 20, 2, 2299, 1499, False, "r", 2000, 2016, 8, "dsl"),
    PlanRow("kabelis-50", "Kabelis 50 + TV", _FLAT, 50, 10, 3199, 2999, False, "r", 2010, 2019, 8, "cable+tv"),  # noqa: E501
    PlanRow("stundas-30", "Stundas 30", _TIME, 30, 10, 899, 699, True, "r", 2010, 9999, 4, "dsl"),
    PlanRow("stundas-10", "Stundas 10", _TIME, 20, 5, 599, 499, False, "r", 2000, 2018, 2, "dsl"),
    PlanRow("mobilais-10gb", "Mobilais 10 GB", _VOLUME, 50, 10, 999, 799, True, "r", 2014, 9999, 6, "lte"),  # noqa: E501
    PlanRow("mobilais-50gb", "Mobilais 50 GB", _VOLUME, 150, 30, 1599, 1199, True, "r", 2018, 9999, 6, "lte"),  # noqa: E501
    PlanRow("lauku-lte-100gb", "Lauku LTE 100 GB", _VOLUME, 100, 20, 1999, 1199, False, "r", 2015, 2022, 5, "lte"),  # noqa: E501
    PlanRow("bizness-100", "Bizness 100", _BUSINESS, 100, 100, 4999, 4499, False, "s", 2000, 2019, 15, "fibre"),  # noqa: E501
    PlanRow("bizness-300", "Bizness 300", _BUSINESS, 300, 300, 5999, 4499, True, "s", 2014, 9999, 40, "fibre"),  # noqa: E501
    PlanRow("bizness-mobilais-100gb", "Bizness Mobilais 100 GB", _VOLUME, 150, 50, 2499, 1999, True, "s", 2016, 9999, 10, "lte"),  # noqa: E501
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

# Annual indexation of list prices: (date, percent). Subscribers past their promo get these
# as price_change events; today's list price already includes them all.
_INDEXATIONS = ((date(2022, 4, 1), 5), (date(2023, 4, 1), 8), (date(2025, 4, 1), 3))

_GEAR = {
    # kind, model, serial prefix
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
_PAYMENT_METHODS = ("direct_debit",) * 45 + ("card",) * 25 + ("bank_transfer",) * 22 + ("cash",) * 8
_PAYMENT_LABEL = {
    "direct_debit": "direct debit",
    "card": "card",
    "bank_transfer": "bank transfer",
    "cash": "cash at a partner point",
}
_OUTAGE_CAUSES = (
    ("fibre_cut", "fibre cut during road works"),
    ("power", "power failure at the node"),
    ("equipment", "node equipment fault"),
    ("storm", "storm damage"),
    ("maintenance", "planned maintenance overran"),
    ("fibre_cut", "cable damaged by excavator"),
)
_TICKET_TOPICS = (
    ("slow", "slow Wi-Fi in the evenings"),
    ("billing", "question about the last invoice"),
    ("router", "router keeps restarting"),
    ("tv", "TV channels missing"),
    ("speed", "speed lower than the plan"),
    ("move", "moving to a new address"),
    ("billing", "asked why the price went up"),
    ("email", "cannot receive e-mail"),
)
_OUTAGE_TICKET_TOPICS = (
    "no internet since this morning",
    "connection drops every few minutes",
    "asked for compensation after the outage",
    "internet down, TV down too",
)
_CONTACTS = (
    ("outreach", "email", "Loyalty newsletter e-mailed"),
    ("desk", "phone", "Called about a faster plan; customer will think about it"),
    ("desk", "phone", "Inbound call: asked about prices for new customers"),
    ("outreach", "sms", "SMS: planned maintenance notice"),
)
_NOTES = (
    "Customer prefers e-mail; works night shifts.",
    "Elderly customer; speak slowly and confirm details.",
    "Asked to be called only after 17:00.",
    "Has a second home in another region; may move service.",
    "Works from home; stability matters more than speed.",
)
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def _said(code: str, **params: Any) -> dict[str, Any]:
    """A phrase (subscribers.phrases): a churn-risk reason said in the reader's language."""
    return {"code": code, "params": params}


def _json(**values: Any) -> str:
    """Small JSON for an event's data; for the rarer events (the hot ones format it inline)."""
    return json.dumps(values, ensure_ascii=False)


def _eur_slow(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


_EUR = [_eur_slow(c) for c in range(100_000)]


def _eur(cents: int) -> str:
    """Cents as euros with two decimals; a table lookup for the usual amounts."""
    return _EUR[cents] if 0 <= cents < 100_000 else _eur_slow(cents)


def _fast_randrange(rng: random.Random) -> Callable[..., int]:
    """``randrange`` from one ``random()`` call: ten times cheaper than ``Random.randrange``,
    and the tiny bias does not matter for demo data."""
    rnd = rng.random

    def randrange(start: int, stop: int | None = None) -> int:
        if stop is None:
            return int(rnd() * start)
        return start + int(rnd() * (stop - start))

    return randrange


def _pretty_price(cents: int) -> int:
    """Round to a shop price ending in .99 (never below 0.99)."""
    return max(cents // 100, 1) * 100 - 1


def _billing_price(cents: int) -> int:
    """Round to the nearest price ending in .49 or .99, as billing does after indexation."""
    return max((cents + 25) // 50, 1) * 50 - 1


def _scramble(x: int, salt: int) -> int:
    """A bijection on 32-bit integers: unique inputs give unique, random-looking outputs."""
    return ((x * 0x9E3779B1) & 0xFFFFFFFF) ^ salt


def _epoch_day(d: date) -> int:
    return d.toordinal() - _EPOCH_ORDINAL


def _date_of(day: int) -> date:
    return date.fromordinal(day + _EPOCH_ORDINAL)


def _month_of(day: int) -> int:
    d = _date_of(day)
    return d.year * 12 + d.month - 1


def _month_start(month: int) -> int:
    return _epoch_day(date(month // 12, month % 12 + 1, 1))


def _add_months(d: date, months: int) -> date:
    m = d.year * 12 + d.month - 1 + months
    return date(m // 12, m % 12 + 1, min(d.day, 28))


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


_first = operator.itemgetter(0)


class _Node(NamedTuple):
    starts: list[int]  # epoch seconds, sorted
    # (start, incident, summary, data): the text is the same on every affected timeline
    outages: list[tuple[int, str, str, str]]


_HEAVY_EXTERNAL_PREFIX = {
    "signup": "ORD-H",
    "ticket": "T",
    "payment": "PAY-H",
    "outage": "NET-H",
    "equipment_shipped": "SHP-H",
}

# --- The generator -------------------------------------------------------------------------


class DemoGenerator:
    """Makes the demo rows. Iterate ``bundles(plan_ids)`` once; it is a stream."""

    def __init__(self, options: SeedOptions) -> None:
        self.options = options
        self.today = options.today or timezone.localdate()
        self.today_day = _epoch_day(self.today)
        self.now = self.today_day * DAY + 12 * 3600  # noon UTC on the reference day
        self.start_day = _epoch_day(date(self.today.year - 16, 1, 1))
        self.rng = random.Random(options.seed)
        self._randrange = _fast_randrange(self.rng)
        self.salt = random.Random(options.seed * 7 + 1).getrandbits(32)
        self.account_offset = random.Random(options.seed * 7 + 2).randrange(_ACCOUNT_SPACE)
        self.phone_offset = random.Random(options.seed * 7 + 3).randrange(10_000_000)
        self.plans = PLANS
        self.heavy = min(options.heavy, options.subscribers)
        self._region_table = [
            r for r, w in zip(REGIONS, _REGION_WEIGHTS, strict=True) for _ in range(w)
        ]
        self._plans_by_segment = {
            seg: [p for p in PLANS if seg in p.segments] for seg in ("r", "s", "c")
        }
        self.nodes = self._make_outages()
        self._month_base = _month_of(self.start_day) - 1
        self._month_starts = [
            _month_start(m) for m in range(self._month_base, _month_of(self.today_day) + 3)
        ]

    # Outages come first: each region's network nodes fail on their own schedule, and now and
    # then a storm takes down many nodes of one region within the same hours. Subscribers are
    # attached to a node and get an event for every outage of it during their tenure, so one
    # incident shows up on many timelines at the same moment.
    def _make_outages(self) -> dict[str, list[_Node]]:
        rng = random.Random(self.options.seed * 7 + 4)
        n = max(self.options.subscribers, 1)
        first = self.start_day * DAY
        span = (self.today_day - self.start_day) * DAY
        years = span / (365.25 * DAY)
        nodes: dict[str, list[_Node]] = {}
        incident = 0
        for region, weight in zip(REGIONS, _REGION_WEIGHTS, strict=True):
            expected = n * weight / 100
            count = int(min(400, max(3, expected // 60)))
            rate = _OUTAGE_RATE[region]
            raw: list[list[tuple[int, int, str, str]]] = [[] for _ in range(count)]
            for node in range(count):
                bad = rng.random() < 0.1  # a few nodes on old equipment fail far more often
                for _ in range(int(rate * years * (3 if bad else 1) * (0.5 + rng.random()))):
                    start = first + int(rng.random() * span)
                    cause, label = _OUTAGE_CAUSES[rng.randrange(len(_OUTAGE_CAUSES))]
                    raw[node].append((start, 30 + int(rng.expovariate(1 / 150)), cause, label))
            for _ in range(int(years * 0.6)):  # storms: a quarter of the region's nodes at once
                start = first + int(rng.random() * span)
                for node in rng.sample(range(count), max(1, count // 4)):
                    raw[node].append(
                        (
                            start + rng.randrange(3 * 3600),
                            120 + rng.randrange(600),
                            "storm",
                            "storm damage",
                        )
                    )
            region_nodes = []
            for node_outages in raw:
                node_outages.sort()
                outages = []
                for start, minutes, cause, label in node_outages:
                    incident += 1
                    code = f"INC-{_date_of(start // DAY).year}-{incident:06d}"
                    outages.append(
                        (
                            start,
                            code,
                            f"Outage {_duration(minutes)} in {region}: {label} ({code})",
                            f'{{"incident": "{code}", "minutes": {minutes}, "cause": "{cause}"}}',
                        )
                    )
                region_nodes.append(_Node([o[0] for o in outages], outages))
            nodes[region] = region_nodes
        return nodes

    def account_number(self, index: int) -> str:
        if index < self.heavy:
            return str(_HEAVY_ACCOUNT_BASE + index + 1)
        return str(
            100_000_000 + (index * _ACCOUNT_MULTIPLIER + self.account_offset) % _ACCOUNT_SPACE
        )

    def _phone(self, index: int) -> str:
        # 7_654_321 is coprime with 10**7, so phones are unique up to ten million subscribers.
        return f"+3712{(index * 7_654_321 + self.phone_offset) % 10_000_000:07d}"

    def plan_rows(self) -> tuple[PlanRow, ...]:
        return self.plans

    def bundles(self, plan_ids: dict[str, int]) -> Iterator[Bundle]:
        event_id = 1
        equipment_id = 1
        carry = 0
        for index in range(self.options.subscribers):
            if index < self.heavy:
                bundle = self._heavy(index, plan_ids, event_id, equipment_id)
            else:
                bundle = self._regular(index, plan_ids, event_id, equipment_id, carry)
                carry += self.options.events_per_subscriber - len(bundle.events)
                # The deficit of short-tenure subscribers moves on to the next ones, so the
                # average stays at the requested number of events.
                carry = max(
                    -self.options.events_per_subscriber,
                    min(carry, 3 * self.options.events_per_subscriber),
                )
            event_id += len(bundle.events)
            equipment_id += len(bundle.equipment)
            yield bundle

    # --- one ordinary subscriber ------------------------------------------------------------

    def _person(self, region: str) -> tuple[str, str, str, str]:
        """(name, e-mail, language, time zone) of a private person."""
        rnd = self.rng.random
        randrange = self._randrange

        def choice(seq: Any) -> Any:
            return seq[int(rnd() * len(seq))]

        female = rnd() < 0.52
        roll = rnd()
        zone = "Europe/Riga"
        if roll < _RUSSIAN_SHARE[region] * 0.97:
            language = "ru"
            if rnd() < 0.2:
                first = choice(_RU_CYR_FEMALE if female else _RU_CYR_MALE)
                last = choice(_RU_CYR_SURNAMES)[female]
            else:
                first = choice(_RU_FEMALE if female else _RU_MALE)
                last = choice(_RU_SURNAMES)[female]
            domains: tuple[str, ...] = _RU_DOMAINS
        elif roll > 0.97:
            language = "en"
            if rnd() < 0.25:
                first, last = choice(_LT_NAMES).split(" ")
                zone = "Europe/Vilnius" if rnd() < 0.7 else zone
            else:
                first, last = choice(_EN_FIRST), choice(_EN_SURNAMES)
                zone = ("Europe/London", "Europe/London", "Europe/Dublin", "Europe/Berlin", zone)[
                    randrange(5)
                ]
            domains = _PERSONAL_DOMAINS
        else:
            language = "lv"
            first = choice(_LV_FEMALE if female else _LV_MALE)
            last = choice(_LV_SURNAMES)[female]
            domains = _PERSONAL_DOMAINS
        style = randrange(4)
        a, b = _ascii(first), _ascii(last)
        local = (
            f"{a}.{b}",
            f"{a}{b}{randrange(60, 100)}",
            f"{a[0]}.{b}",
            f"{b}.{a}{randrange(1, 30)}",
        )[style]
        return f"{first} {last}", f"{local}@{choice(domains)}", language, zone

    def _business(self, corporate: bool) -> tuple[str, str]:
        rnd = self.rng.random

        def choice(seq: Any) -> Any:
            return seq[int(rnd() * len(seq))]

        if corporate:
            base = choice(_CORPORATE_NAMES)
            name = base if rnd() < 0.3 else f"{base} filiāle {self._randrange(2, 40)}"
            domain = _ascii(base.split('"')[1]).replace(".", "-") + ".lv"
            return name, f"it@{domain}"
        adj, noun = choice(_BUSINESS_ADJ), choice(_BUSINESS_NOUN)
        kind = "SIA" if rnd() < 0.85 else "IK"
        domain = f"{_ascii(adj)}-{_ascii(noun)}.lv"
        return (
            f'{kind} "{adj} {noun}"',
            f"{('info', 'birojs', 'gramatvediba')[self._randrange(3)]}@{domain}",
        )

    def _pick_plan(self, segment: str, year: int) -> PlanRow:
        choices = [
            p for p in self._plans_by_segment[segment] if p.sold_from <= year <= p.sold_until
        ]
        if not choices:
            choices = self._plans_by_segment[segment]
        total = sum(p.weight for p in choices)
        roll = self.rng.random() * total
        for plan in choices:
            roll -= plan.weight
            if roll < 0:
                return plan
        return choices[-1]

    def _regular(  # one subscriber's story, told in order
        self,
        index: int,
        plan_ids: dict[str, int],
        first_event_id: int,
        first_equipment_id: int,
        carry: int,
    ) -> Bundle:
        rnd = self.rng.random
        randrange = self._randrange
        sid = index + 1
        today = self.today_day
        now = self.now
        account = self.account_number(index)
        events: list[_Draft] = []
        add = events.append

        roll = rnd()
        segment = "residential" if roll < 0.86 else "small_business" if roll < 0.97 else "corporate"
        region = self._region_table[randrange(100)]
        if segment == "residential":
            name, email, language, zone = self._person(region)
        else:
            name, email = self._business(segment == "corporate")
            language, zone = ("lv", "Europe/Riga") if rnd() < 0.85 else ("ru", "Europe/Riga")
        if rnd() < 0.04:
            email = ""  # no e-mail on file: the contact panel must say so

        roll = rnd()
        if roll < 0.15:
            tenure = 20 + randrange(345)
        elif roll < 0.5:
            tenure = 365 + randrange(3 * 365)
        else:
            tenure = 4 * 365 + randrange(11 * 365)
        signup_day = max(today - tenure, self.start_day + 30)
        signup = _date_of(signup_day)
        seg_key = segment[0]
        plan = self._pick_plan(seg_key, signup.year)
        method = _PAYMENT_METHODS[randrange(100)]
        bill_dom = min(signup.day, 28)

        # Status: a few cancelled (their story stops at the cancellation), the rest active;
        # suspension follows from arrears below.
        end_day = today
        cancelled = tenure > 120 and rnd() < 0.025
        if cancelled:
            end_day = today - randrange(1, min(700, tenure - 60))

        # --- price history -------------------------------------------------------------------
        promo_cents = _pretty_price(plan.new_cents * (50, 70, 80, 100)[randrange(4)] // 100)
        if segment == "corporate":
            promo_cents = _pretty_price(plan.list_cents * (85 + randrange(20)) // 100)
        promo_end = _epoch_day(_add_months(signup, 12))
        # The price after the promo: today's list price without the indexations since.
        indexations = [(d, pct) for d, pct in _INDEXATIONS if _epoch_day(d) > promo_end]
        base = plan.list_cents
        for _, pct in indexations:
            base = base * 100 // (100 + pct)
        base = _billing_price(base)
        if promo_cents >= base and segment != "corporate":
            promo_cents = _pretty_price(base * 70 // 100)
        prices: list[tuple[int, int]] = [(signup_day, promo_cents)]
        signup_at = signup_day * DAY + (8 + randrange(10)) * 3600 + randrange(3600)
        promo_text = (
            " (first-year promo)" if segment != "corporate" else " (negotiated contract price)"
        )
        add(
            (
                signup_at,
                "signup",
                "billing",
                f"ORD-{account}",
                f"Signed up for {plan.name} at €{_eur(promo_cents)} a month{promo_text}",
                _json(
                    plan=plan.code,
                    price=_eur(promo_cents),
                    channel=("web", "shop", "phone")[randrange(3)],
                    plan_name=plan.name,
                    promo=segment != "corporate",
                ),
            )
        )
        promo_ends_on: date | None = None
        current_plan = plan
        monthly = promo_cents
        if segment == "corporate":
            pass  # contract price, no promo
        elif tenure < 365:
            promo_ends_on = _date_of(promo_end)
        else:
            if promo_end < end_day:
                at = promo_end * DAY + 2 * 3600
                add(
                    (
                        at,
                        "promo_ended",
                        "billing",
                        None,
                        "First-year promo ended",
                        f'{{"promo_price": "{_eur(promo_cents)}"}}',
                    )
                )
                add(
                    (
                        at + 60,
                        "price_change",
                        "billing",
                        None,
                        f"Price rose from €{_eur(promo_cents)} to €{_eur(base)} after the promo",
                        _json(
                            **{"from": _eur(promo_cents), "to": _eur(base), "reason": "promo_ended"}
                        ),
                    )
                )
                prices.append((promo_end, base))
                monthly = base
                for step, (when, pct) in enumerate(indexations, 1):
                    day = _epoch_day(when)
                    if day >= end_day:
                        break
                    # The last indexation lands exactly on today's list price.
                    raised = (
                        plan.list_cents
                        if step == len(indexations)
                        else _billing_price(monthly * (100 + pct) // 100)
                    )
                    add(
                        (
                            day * DAY + 2 * 3600,
                            "price_change",
                            "billing",
                            None,
                            f"Annual price indexation +{pct}%: €{_eur(monthly)} → €{_eur(raised)}",
                            _json(
                                **{
                                    "from": _eur(monthly),
                                    "to": _eur(raised),
                                    "reason": "indexation",
                                    "percent": pct,
                                }
                            ),
                        )
                    )
                    monthly = raised
                    prices.append((day, monthly))
            # Some long-tenure subscribers were moved off a plan no longer sold, or got a
            # retention discount; the rest carry the loyalty penalty. Each change comes after
            # the last one, so the price history stays in order.
            roll = rnd()
            last_change = prices[-1][0]
            if not plan.is_sold and roll < 0.35 and end_day - last_change > 400:
                newer = self._pick_plan(seg_key, self.today.year)
                day = max(last_change + 30, end_day - randrange(30, 1500))
                new_price = _pretty_price(newer.new_cents * (100 + randrange(15)) // 100)
                add(
                    (
                        day * DAY + 9 * 3600,
                        "plan_change",
                        "billing",
                        f"CHG-{account}-{day}",
                        f"Moved from {plan.name} to {newer.name} at €{_eur(new_price)} a month",
                        _json(
                            **{"from": plan.code, "to": newer.code, "price": _eur(new_price)},
                            from_name=plan.name,
                            to_name=newer.name,
                        ),
                    )
                )
                current_plan, monthly = newer, new_price
                prices.append((day, new_price))
            elif roll < 0.15 and end_day - last_change > 200:
                day = max(last_change + 30, end_day - randrange(30, 900))
                new_price = current_plan.new_cents
                add(
                    (
                        day * DAY + 10 * 3600,
                        "price_change",
                        "billing",
                        None,
                        f"Retention price agreed: €{_eur(monthly)} → €{_eur(new_price)}",
                        _json(
                            **{"from": _eur(monthly), "to": _eur(new_price), "reason": "retention"}
                        ),
                    )
                )
                monthly = new_price
                prices.append((day, new_price))
            elif roll < 0.21 and not cancelled and today - last_change > 400:
                # A retention discount that ends soon: the nightly job should flag it.
                day = today - randrange(200, 330)
                ends = _date_of(today + randrange(3, 75))
                new_price = _pretty_price(monthly * 80 // 100)
                add(
                    (
                        day * DAY + 10 * 3600,
                        "price_change",
                        "billing",
                        None,
                        f"Retention discount −20% until {ends:%d.%m.%Y}: "
                        f"€{_eur(monthly)} → €{_eur(new_price)}",
                        _json(
                            **{"from": _eur(monthly), "to": _eur(new_price)},
                            reason="retention",
                            until=ends.isoformat(),
                        ),
                    )
                )
                monthly = new_price
                prices.append((day, new_price))
                promo_ends_on = ends
        prices.sort()

        # --- equipment ---------------------------------------------------------------------
        equipment: list[EquipmentRow] = []
        gear = plan.gear  # what was installed at signup
        kit: list[str] = []
        if segment != "residential":
            kit = ["ont", "business"] if "fibre" in gear else ["lte"]
        elif gear.startswith("fibre"):
            kit = (
                ["ont_combo"]
                if rnd() < 0.6
                else ["ont", ("router", "router_keenetic")[randrange(2)]]
            )
        elif gear.startswith("dsl"):
            kit = ["modem_dsl"]
        elif gear.startswith("cable"):
            kit = ["modem_cable"]
        else:
            kit = [("lte", "lte_zte")[randrange(2)]]
        if gear.endswith("+tv") or (segment == "residential" and rnd() < 0.08):
            kit.append("stb")
        if segment == "residential" and rnd() < 0.05:
            kit.append("mesh")
        ship_day = signup_day + 1 + randrange(3)
        eq_id = first_equipment_id
        returned = cancelled and end_day < today - 30
        shipped_names = []
        first_serial = ""
        for key in kit:
            kind, model, prefix = _GEAR[key]
            serial = f"{prefix}{_scramble(eq_id, self.salt):08X}"
            first_serial = first_serial or serial
            status, return_method = "on_loan", ""
            return_due: date | None = None
            back: date | None = None
            if returned:
                status = "returned"
                return_method = ("courier", "drop_off", "mail")[randrange(3)]
                back = _date_of(end_day + randrange(1, 25))
                if rnd() < 0.05:
                    status, back = "lost", None
            elif cancelled:
                status = "return_requested"
                return_method = ("courier", "drop_off", "mail", "")[randrange(4)]
                return_due = _date_of(end_day + 30)
            equipment.append(
                EquipmentRow(
                    eq_id,
                    sid,
                    kind,
                    model,
                    serial,
                    status,
                    return_method,
                    return_due,
                    _date_of(ship_day),
                    back,
                )
            )
            shipped_names.append(f"{model} ({serial})")
            eq_id += 1
        add(
            (
                ship_day * DAY + (7 + randrange(8)) * 3600,
                "equipment_shipped",
                "logistics",
                f"SHP-{first_serial}",
                "Shipped " + ", ".join(shipped_names),
                _json(serials=[e.serial for e in equipment], items=", ".join(shipped_names)),
            )
        )
        if cancelled:
            add(
                (
                    (end_day - 14) * DAY + 11 * 3600,
                    "cancellation_request",
                    "desk",
                    None,
                    "Asked to end the contract",
                    f'{{"effective": "{_date_of(end_day).isoformat()}"}}',
                )
            )
            for item in equipment:
                if item.returned_on:
                    add(
                        (
                            _epoch_day(item.returned_on) * DAY + 13 * 3600,
                            "equipment_returned",
                            "logistics",
                            f"RET-{item.serial}",
                            f"Returned {item.model_name} ({item.serial})",
                            _json(
                                serial=item.serial,
                                method=item.return_method,
                                item=f"{item.model_name} ({item.serial})",
                            ),
                        )
                    )
        elif rnd() < 0.08 and today - ship_day > 400:
            # A faulty box replaced: the old one came back, a new one of the model went out.
            old = equipment[0]
            prefix = old.serial.rstrip("0123456789ABCDEF")
            day = ship_day + randrange(200, today - ship_day - 10)
            equipment[0] = old._replace(
                status="returned", return_method="courier", returned_on=_date_of(day + 5)
            )
            serial = f"{prefix}{_scramble(eq_id, self.salt):08X}"
            equipment.append(
                EquipmentRow(
                    eq_id,
                    sid,
                    old.kind,
                    old.model_name,
                    serial,
                    "on_loan",
                    "",
                    None,
                    _date_of(day),
                    None,
                )
            )
            eq_id += 1
            add(
                (
                    day * DAY + 10 * 3600,
                    "equipment_shipped",
                    "logistics",
                    f"SHP-{serial}",
                    f"Shipped replacement {old.model_name} ({serial})",
                    _json(
                        serials=[serial], replaces=old.serial, items=f"{old.model_name} ({serial})"
                    ),
                )
            )
            add(
                (
                    (day + 5) * DAY + 15 * 3600,
                    "equipment_returned",
                    "logistics",
                    f"RET-{old.serial}",
                    f"Returned {old.model_name} ({old.serial})",
                    _json(
                        serial=old.serial, method="courier", item=f"{old.model_name} ({old.serial})"
                    ),
                )
            )

        # --- outages and tickets -----------------------------------------------------------
        node = self.nodes[region][randrange(len(self.nodes[region]))]
        start_at = signup_day * DAY
        end_at = end_day * DAY + DAY
        outages_12m = 0
        year_ago = now - 365 * DAY
        for start, incident, summary, data in node.outages[
            bisect.bisect_left(node.starts, start_at) :
        ]:
            if start >= end_at or start >= now:
                break
            add((start, "outage", "network", f"{incident}/{account}", summary, data))
            if start >= year_ago:
                outages_12m += 1
            if rnd() < 0.3:
                at = start + 1800 + randrange(30 * 3600)
                if at < now:
                    add(
                        (
                            at,
                            "ticket",
                            "support",
                            "",
                            "Ticket: "
                            + _OUTAGE_TICKET_TOPICS[randrange(len(_OUTAGE_TICKET_TOPICS))],
                            f'{{"topic": "outage", "incident": "{incident}", "status": "closed"}}',
                        )
                    )
        for _ in range(int(rnd() * 2.2 + (0.8 if seg_key != "r" else 0))):
            at = start_at + randrange(max(end_at - start_at, DAY))
            if at < now:
                topic, text = _TICKET_TOPICS[randrange(len(_TICKET_TOPICS))]
                add(
                    (
                        at,
                        "ticket",
                        "support",
                        "",
                        f"Ticket: {text}",
                        _json(topic=topic, status="open" if now - at < 5 * DAY else "closed"),
                    )
                )
        if rnd() < 0.12:
            source, channel, text = _CONTACTS[randrange(len(_CONTACTS))]
            add(
                (
                    max(start_at, end_at - randrange(30, 700) * DAY) + 10 * 3600,
                    "contact",
                    source,
                    None,
                    text,
                    f'{{"channel": "{channel}", "direction": "outbound"}}',
                )
            )
        if rnd() < 0.06:
            add(
                (
                    min(start_at + randrange(max(end_at - start_at, DAY)), now - 60),
                    "note",
                    "desk",
                    None,
                    _NOTES[randrange(len(_NOTES))],
                    "{}",
                )
            )

        # --- payments, most recent months first ---------------------------------------------
        roll = rnd()
        risky = method in ("cash", "bank_transfer")
        arrears_months = 0
        if not cancelled:
            if roll < (0.03 if risky else 0.012):
                arrears_months = 3 + randrange(2)
            elif roll < (0.1 if risky else 0.04):
                arrears_months = 1 + randrange(2)
        last_month = _month_of(end_day)
        if _date_of(end_day).day < bill_dom:
            last_month -= 1
        first_month = _month_of(signup_day) + 1
        months_available = max(0, last_month - first_month + 1)
        budget = (
            self.options.events_per_subscriber
            + carry
            + randrange(
                -self.options.events_per_subscriber // 3,
                self.options.events_per_subscriber // 3 + 1,
            )
        )
        n_months = min(months_available, max(3, budget - len(events)))
        missed_once = -1
        if n_months > 6 and not arrears_months and rnd() < 0.1:
            missed_once = last_month - 2 - randrange(n_months - 4)
        arrears = 0
        label = _PAYMENT_LABEL[method]
        month_starts, month_base = self._month_starts, self._month_base
        p_index = len(prices) - 1
        for month in range(last_month, last_month - n_months, -1):
            due = month_starts[month - month_base] + bill_dom - 1
            while p_index > 0 and prices[p_index][0] > due:
                p_index -= 1
            cents = prices[p_index][1]
            period = f"{month // 12}-{month % 12 + 1:02d}"
            if last_month - month < arrears_months or month == missed_once:
                arrears += cents if month != missed_once else 0
                fail = "Direct debit failed" if method == "direct_debit" else "Invoice not paid"
                add(
                    (
                        min((due + 10) * DAY + 6 * 3600, now - 7200),
                        "missed_payment",
                        "billing",
                        f"DUN-{account}-{period}",
                        f"{fail}: €{_eur(cents)} for {_MONTH_NAMES[month % 12]} {month // 12}",
                        f'{{"amount": "{_eur(cents)}", "period": "{period}", '
                        f'"method": "{method}"}}',
                    )
                )
                continue
            if month == missed_once + 1:
                cents *= 2
            if method == "direct_debit":
                at = due * DAY + 3 * 3600 + randrange(7200)
            else:
                at = (due + randrange(4)) * DAY + (6 + randrange(12)) * 3600 + randrange(3600)
            at = min(at, now - 3600)
            add(
                (
                    at,
                    "payment",
                    "billing",
                    f"PAY-{account}-{period}",
                    f"Payment received €{_eur(cents)} ({label})",
                    f'{{"amount": "{_eur(cents)}", "period": "{period}", "method": "{method}"}}',
                )
            )

        # --- the row ------------------------------------------------------------------------
        status = "cancelled" if cancelled else "suspended" if arrears_months >= 3 else "active"
        balance = arrears + (monthly if not cancelled and rnd() < 0.3 else 0)
        if not arrears and not cancelled and rnd() < 0.03:
            balance = -monthly  # paid in advance
        dnc = rnd()
        risk, reasons = self._risk(
            cancelled=cancelled,
            monthly=monthly,
            new_cents=current_plan.new_cents,
            plan=current_plan,
            outages_12m=outages_12m,
            arrears=arrears,
            arrears_months=arrears_months,
            events=events,
            promo_ends_on=promo_ends_on,
            tenure_days=today - signup_day,
        )
        subscriber = SubscriberRow(
            sid, account, name, self._phone(index), email, language, zone, region, segment, status,
            signup, plan_ids[current_plan.code], monthly, promo_ends_on, balance, arrears, method,
            dnc < 0.03, dnc < 0.015 or 0.03 <= dnc < 0.035, dnc < 0.02, risk,
            json.dumps(reasons, ensure_ascii=False),
        )  # fmt: skip
        events.sort(key=_first)
        rows: list[EventRow] = []
        eid = first_event_id
        for at, kind, source, ext, summary, data in events:
            # Tickets are numbered by the support system; the event id is unique, so it is too.
            rows.append(
                (eid, sid, kind, at, source, ext if ext != "" else f"T{eid:08d}", summary, data)
            )
            eid += 1
        return Bundle(subscriber, equipment, rows)

    def _risk(
        self,
        *,
        cancelled: bool,
        monthly: int,
        new_cents: int,
        plan: PlanRow,
        outages_12m: int,
        arrears: int,
        arrears_months: int,
        events: list[_Draft],
        promo_ends_on: date | None,
        tenure_days: int,
    ) -> tuple[int, list[dict[str, Any]]]:
        """Churn risk from 0 to 100 and its reasons (phrases, said in the reader's language),
        from the facts generated above."""
        if cancelled:
            return 0, []
        score = 5
        reasons = []
        if monthly > new_cents and new_cents:
            penalty = monthly - new_cents
            percent = penalty * 100 // new_cents
            score += min(35, percent * 7 // 10)
            reasons.append(_said("risk.loyalty_penalty", amount=_eur(penalty), percent=percent))
            if tenure_days > 5 * 365:
                score += 5
                reasons.append(_said("risk.long_tenure", years=tenure_days // 365))
        if outages_12m:
            score += min(30, 9 * outages_12m)
            reasons.append(_said("risk.outages", count=outages_12m))
        if arrears:
            score += 15 + 5 * min(arrears_months, 3)
            reasons.append(_said("risk.arrears", amount=_eur(arrears), count=arrears_months))
        recent = self.now - 90 * DAY
        tickets = sum(1 for e in events if e[1] == "ticket" and e[0] >= recent)
        if tickets:
            score += min(15, 6 * tickets)
            reasons.append(_said("risk.tickets", count=tickets))
        if promo_ends_on is not None:
            days = (promo_ends_on - self.today).days
            if 0 <= days <= 60:
                score += 15
                reasons.append(_said("risk.discount_ends", days=days))
        if not plan.is_sold:
            score += 5
            reasons.append(_said("risk.old_plan", plan=plan.name))
        return min(score, 100), reasons

    # --- heavy corporate accounts -------------------------------------------------------------

    def _heavy(
        self, index: int, plan_ids: dict[str, int], first_event_id: int, first_equipment_id: int
    ) -> Bundle:
        """A corporate account with many sites: tens of thousands of events over twelve years."""
        # Own random stream, so changing --heavy-events leaves everybody else's data alone.
        rng = random.Random(self.options.seed * 1_000_003 + index)
        randrange = rng.randrange
        sid = index + 1
        account = self.account_number(index)
        plan = next(p for p in PLANS if p.code == "korporativais-birojs-500")
        signup_day = self.today_day - 12 * 365 - index * 40
        name = _CORPORATE_NAMES[index % len(_CORPORATE_NAMES)]
        domain = _ascii(name.split('"')[1]).replace(".", "-") + ".lv"
        sites = 40 + index * 5
        equipment = []
        eq_id = first_equipment_id
        for site in range(1, sites + 1):
            for key in ("ont", "business"):
                kind, model, prefix = _GEAR[key]
                serial = f"{prefix}{_scramble(eq_id, self.salt):08X}"
                equipment.append(
                    EquipmentRow(
                        eq_id,
                        sid,
                        kind,
                        model,
                        f"{serial}",
                        "on_loan",
                        "",
                        None,
                        _date_of(signup_day + site * 20),
                        None,
                    )
                )
                eq_id += 1
        # A negotiated price per site, below what a new customer pays for one site.
        monthly = _pretty_price(plan.new_cents * 90 // 100)
        first_at = signup_day * DAY
        span = self.now - first_at - DAY
        count = self.options.heavy_events
        stamps = sorted(first_at + randrange(span) for _ in range(count))
        rows: list[EventRow] = []
        eid = first_event_id
        region = REGIONS[index % len(REGIONS)]
        for n, at in enumerate(stamps):
            site = 1 + randrange(sites)
            roll = randrange(100)
            if n == 0:
                kind, source, summary, data = (
                    "signup", "billing", f"Contract signed: {plan.name} for {sites} sites",
                    _json(plan=plan.code, sites=sites, plan_name=plan.name),
                )  # fmt: skip
            elif roll < 30:
                topic, text = _TICKET_TOPICS[randrange(len(_TICKET_TOPICS))]
                kind, source = "ticket", "support"
                summary, data = (
                    f"Ticket, site {site}: {text}",
                    f'{{"topic": "{topic}", "site": {site}, "status": "closed"}}',
                )
            elif roll < 55:
                cents = monthly
                kind, source = "payment", "billing"
                summary = f"Payment received €{_eur(cents)} for site {site} (bank transfer)"
                data = f'{{"amount": "{_eur(cents)}", "site": {site}, "method": "bank_transfer"}}'
            elif roll < 70:
                minutes = 20 + randrange(240)
                kind, source = "outage", "network"
                summary = f"Outage {_duration(minutes)} at site {site} ({region}): line fault"
                data = f'{{"minutes": {minutes}, "site": {site}, "cause": "line"}}'
            elif roll < 80:
                kind, source = "contact", "desk"
                summary, data = (
                    f"Account manager call about site {site}",
                    f'{{"channel": "phone", "direction": "outbound", "site": {site}}}',
                )
            elif roll < 90:
                kind, source = "note", "desk"
                summary, data = (
                    f"Site {site}: change of on-site contact person",
                    f'{{"site": {site}}}',
                )
            else:
                kind, source = "equipment_shipped", "logistics"
                summary, data = (
                    f"Shipped spare MikroTik RB4011iGS+ to site {site}",
                    f'{{"site": {site}, "items": "MikroTik RB4011iGS+"}}',
                )
            ext = f"{_HEAVY_EXTERNAL_PREFIX[kind]}{eid:08d}" if source != "desk" else None
            rows.append((eid, sid, kind, at, source, ext, summary, data))
            eid += 1
        subscriber = SubscriberRow(
            sid, account, name, self._phone(index), f"it@{domain}", "lv", "Europe/Riga", region,
            "corporate", "active", _date_of(signup_day), plan_ids[plan.code], monthly, None, 0, 0,
            "bank_transfer", False, False, False, 35,
            json.dumps([_said("risk.renewal_due"), _said("risk.site_outages")]),
        )  # fmt: skip
        return Bundle(subscriber, equipment, rows)


IMPORT_COLUMNS = (
    "account_number", "name", "plan_code", "monthly_price", "signup_date", "region", "phone",
    "email", "language", "time_zone", "segment", "status", "promo_ends_on", "payment_method",
)  # fmt: skip


def import_rows(
    count: int, *, seed: int = 1, today: date | None = None
) -> Iterator[tuple[str, ...]]:
    """New subscribers as a billing export lists them, in ``IMPORT_COLUMNS`` order (the column
    names subscribers.importing reads). Account numbers are ``B000000001``…, which no seeded
    subscriber has, so a benchmark can import them next to the demo data and delete them after.
    """
    generator = DemoGenerator(SeedOptions(subscribers=0, seed=seed, heavy=0, today=today))
    rnd = generator.rng.random
    randrange = generator._randrange
    sold = [p for p in PLANS if p.is_sold and "r" in p.segments]
    for index in range(count):
        region = generator._region_table[randrange(100)]
        name, email, language, zone = generator._person(region)
        plan = sold[randrange(len(sold))]
        signup = _date_of(generator.today_day - randrange(60))
        yield (
            f"B{index + 1:09d}", name, plan.code,
            _eur(_pretty_price(plan.new_cents * (50, 70, 80, 100)[randrange(4)] // 100)),
            signup.isoformat(), region, generator._phone(index + 5_000_000), email, language, zone,
            "residential", "active", _add_months(signup, 12).isoformat(),
            _PAYMENT_METHODS[int(rnd() * 100)],
        )  # fmt: skip


# --- Loading -------------------------------------------------------------------------------


@dataclass
class LoadReport:
    options: SeedOptions
    plans: int = 0
    subscribers: int = 0
    equipment: int = 0
    events: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return self.plans + self.subscribers + self.equipment + self.events

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    def summary(self) -> str:
        total = self.total_seconds or 1e-9
        phases = ", ".join(f"{name} {secs:.1f} s" for name, secs in self.seconds.items())
        return (
            f"Loaded {self.subscribers:,} subscribers, {self.events:,} timeline events, "
            f"{self.equipment:,} equipment items and {self.plans} plans in {total:.1f} s "
            f"({self.rows / total:,.0f} rows/s; {phases})."
        )


def database_is_empty() -> bool:
    return not Subscriber.objects.exists()


def reset_demo_data() -> None:
    """Delete subscribers, their events and equipment, and plans (and what refers to them)."""
    if connection.vendor == "postgresql":
        tables = ", ".join(
            connection.ops.quote_name(m._meta.db_table)
            for m in (TimelineEvent, Equipment, Subscriber, Plan)
        )
        with connection.cursor() as cursor:
            # CASCADE also empties the desk's cases and offers that point at these rows.
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        return
    with transaction.atomic():
        TimelineEvent.objects.all().delete()
        Equipment.objects.all().delete()
        Subscriber.objects.all().delete()
        Plan.objects.all().delete()


def load_demo(
    options: SeedOptions,
    *,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> LoadReport:
    """Generate and load the demo data into an empty subscriber table."""
    if not database_is_empty():
        raise ValueError("subscribers already exist; reset first")
    generator = DemoGenerator(options)
    report = LoadReport(options)
    started = time.perf_counter()
    with transaction.atomic():
        plan_ids = _upsert_plans(generator.plan_rows())
        report.plans = len(plan_ids)
        bar = tqdm(
            total=options.subscribers,
            unit=" subscribers",
            disable=not progress,
            mininterval=1 if sys.stderr.isatty() else 30,
            smoothing=0.1,
        )
        with bar:
            if connection.vendor == "postgresql":
                _load_postgres(generator, plan_ids, report, bar, log, started)
            else:
                _load_orm(generator.bundles(plan_ids), report, bar)
                report.seconds["generate and insert"] = time.perf_counter() - started
    return report


def _upsert_plans(rows: tuple[PlanRow, ...]) -> dict[str, int]:
    ids = {}
    for row in rows:
        plan, _ = Plan.objects.update_or_create(
            code=row.code,
            defaults={
                "name": row.name,
                "kind": row.kind,
                "download_mbps": row.download_mbps,
                "upload_mbps": row.upload_mbps,
                "list_price": Decimal(row.list_cents) / 100,
                "new_customer_price": Decimal(row.new_cents) / 100,
                "is_sold": row.is_sold,
                "description_en": PLAN_DESCRIPTIONS[row.code][0],
                "description_lv": PLAN_DESCRIPTIONS[row.code][1],
                "description_ru": PLAN_DESCRIPTIONS[row.code][2],
            },
        )
        ids[row.code] = plan.pk
    return ids


# --- ORM writer (SQLite and anything without COPY) --------------------------------------------

_ORM_CHUNK = 2000


def _cents(value: int) -> Decimal:
    return Decimal(value) / 100


def _load_orm(bundles: Iterator[Bundle], report: LoadReport, bar: tqdm[Any]) -> None:
    subscribers: list[Subscriber] = []
    equipment: list[Equipment] = []
    events: list[TimelineEvent] = []

    def flush() -> None:
        Subscriber.objects.bulk_create(subscribers, batch_size=500)
        Equipment.objects.bulk_create(equipment, batch_size=500)
        TimelineEvent.objects.bulk_create(events, batch_size=500)
        report.subscribers += len(subscribers)
        report.equipment += len(equipment)
        report.events += len(events)
        bar.update(len(subscribers))
        subscribers.clear()
        equipment.clear()
        events.clear()

    for bundle in bundles:
        s = bundle.subscriber
        subscribers.append(
            Subscriber(
                id=s.id,
                account_number=s.account_number,
                name=s.name,
                phone=s.phone,
                email=s.email,
                language=s.language,
                time_zone=s.time_zone,
                region=s.region,
                segment=s.segment,
                status=s.status,
                signup_date=s.signup_date,
                plan_id=s.plan_id,
                monthly_price=_cents(s.monthly_cents),
                promo_ends_on=s.promo_ends_on,
                balance=_cents(s.balance_cents),
                arrears=_cents(s.arrears_cents),
                payment_method=s.payment_method,
                do_not_call=s.do_not_call,
                do_not_email=s.do_not_email,
                do_not_sms=s.do_not_sms,
                churn_risk=s.churn_risk,
                churn_risk_reasons=json.loads(s.churn_risk_reasons),
            )
        )
        equipment.extend(Equipment(**e._asdict()) for e in bundle.equipment)
        for eid, sid, kind, at, source, ext, summary, data in bundle.events:
            moment = datetime.fromtimestamp(at, UTC)
            events.append(
                TimelineEvent(
                    id=eid,
                    subscriber_id=sid,
                    kind=kind,
                    occurred_at=moment,
                    source=source,
                    external_id=ext,
                    summary=summary,
                    data=json.loads(data),
                    recorded_at=moment,
                )
            )
        if len(subscribers) >= _ORM_CHUNK or len(events) >= 20 * _ORM_CHUNK:
            flush()
    flush()


# --- PostgreSQL writer: COPY into detached tables ----------------------------------------------

_SUBSCRIBER_COLUMNS = (
    "id", "account_number", "name", "phone", "email", "language", "time_zone", "region",
    "segment", "status", "signup_date", "plan_id", "monthly_price", "promo_ends_on", "balance",
    "arrears", "payment_method", "do_not_call", "do_not_email", "do_not_sms", "churn_risk",
    "churn_risk_reasons", "updated_at",
)  # fmt: skip
_EQUIPMENT_COLUMNS = (
    "id", "subscriber_id", "kind", "model_name", "serial", "status", "return_method",
    "return_due_on", "shipped_on", "returned_on",
)  # fmt: skip
_EVENT_COLUMNS = (
    "id", "subscriber_id", "kind", "occurred_at", "actor_id", "source", "external_id", "summary",
    "code", "params", "data", "recorded_at",
)  # fmt: skip


def _copy_sql(model: type[Any], columns: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    table, names = quote(model._meta.db_table), ", ".join(map(quote, columns))
    return f"COPY {table} ({names}) FROM STDIN WITH (FREEZE)"


NULL = "\\N"  # COPY text for NULL


def _day_text(day: date | None) -> str:
    return NULL if day is None else day.isoformat()


class _Stamps:
    """Epoch seconds to COPY text, from two lookup tables instead of a datetime per row."""

    def __init__(self, first_day: int, last_day: int) -> None:
        self.first_day = first_day
        self.days = [_date_of(d).isoformat() + " " for d in range(first_day, last_day + 1)]
        self.times = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+00" for s in range(DAY)]

    def __call__(self, epoch: int) -> str:
        day, second = divmod(epoch, DAY)
        return self.days[day - self.first_day] + self.times[second]


@dataclass
class DetachedSchema:
    """The key constraints and indexes taken off the big tables for the load, to put back."""

    drop: list[str]
    restore: list[str]


def detach_schema(cursor: Any, tables: list[str]) -> DetachedSchema:
    """SQL to drop, and to recreate exactly, the primary keys, unique and foreign keys of
    ``tables`` (and foreign keys elsewhere that point at them) and their other indexes.

    Definitions are read from the catalogue, so what comes back is what the migrations made,
    names included. Check constraints stay: they cost little during COPY.
    """
    cursor.execute(
        """
        SELECT con.conrelid::regclass::text, con.conname, con.contype,
               pg_get_constraintdef(con.oid)
        FROM pg_constraint con
        WHERE con.contype IN ('p', 'u', 'f')
          AND (con.conrelid = ANY(%s::regclass[])
               OR (con.contype = 'f' AND con.confrelid = ANY(%s::regclass[])))
        ORDER BY con.conrelid::regclass::text, con.conname
        """,
        [tables, tables],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef
        FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
          AND NOT EXISTS (
              SELECT 1 FROM pg_constraint c
              WHERE c.conindid
                    = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass
          )
        ORDER BY i.tablename, i.indexname
        """,
        [tables],
    )
    indexes = cursor.fetchall()
    q = connection.ops.quote_name
    foreign = [c for c in constraints if c[2] == "f"]
    keys = [c for c in constraints if c[2] != "f"]
    drop = [
        f"ALTER TABLE {table} DROP CONSTRAINT {q(name)}" for table, name, _, _ in foreign + keys
    ]
    drop += [f"DROP INDEX {q(name)}" for name, _ in indexes]
    # Primary keys first (foreign keys need them), then the other indexes, then foreign keys.
    keys.sort(key=lambda c: c[2] != "p")
    restore = [
        f"ALTER TABLE {table} ADD CONSTRAINT {q(name)} {definition}"
        for table, name, _, definition in keys
    ]
    restore += [definition for _, definition in indexes]
    restore += [
        f"ALTER TABLE {table} ADD CONSTRAINT {q(name)} {definition}"
        for table, name, _, definition in foreign
    ]
    return DetachedSchema(drop, restore)


def _load_postgres(
    generator: DemoGenerator,
    plan_ids: dict[str, int],
    report: LoadReport,
    bar: tqdm[Any],
    log: Callable[[str], None],
    started: float,
) -> None:
    """Must run inside a transaction: a failure anywhere leaves the schema as it was."""
    models: list[type[Any]] = [TimelineEvent, Equipment, Subscriber]
    tables = [m._meta.db_table for m in models]
    quote = connection.ops.quote_name
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own cursor, for copy()
        # Memory for the index builds below; a session setting, undone at commit.
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute("SET LOCAL synchronous_commit = off")
        schema = detach_schema(cursor, tables)
        for statement in schema.drop:
            cursor.execute(statement)
        # Empty already, but truncating in this transaction lets COPY write frozen rows: no
        # hint-bit rewrite or freeze vacuum of twenty million rows later, and the visibility map
        # is set, so index-only scans work at once.
        cursor.execute(f"TRUNCATE {', '.join(quote(t) for t in tables)}")
        stamps = _Stamps(generator.start_day - 1, generator.today_day + 2)
        now_text = timezone.now().isoformat()
        with (
            tempfile.TemporaryFile("w+", encoding="utf-8") as subscriber_file,
            tempfile.TemporaryFile("w+", encoding="utf-8") as equipment_file,
        ):
            # One COPY stream at a time per connection: events go straight to the server while
            # the (twenty times smaller) subscriber and equipment rows wait in temporary files.
            with cursor.copy(_copy_sql(TimelineEvent, _EVENT_COLUMNS)) as copy:
                _stream(
                    generator.bundles(plan_ids),
                    copy,
                    subscriber_file,
                    equipment_file,
                    stamps,
                    now_text,
                    report,
                    bar,
                )
            for model, columns, spool in (
                (Subscriber, _SUBSCRIBER_COLUMNS, subscriber_file),
                (Equipment, _EQUIPMENT_COLUMNS, equipment_file),
            ):
                spool.seek(0)
                with cursor.copy(_copy_sql(model, columns)) as copy:
                    while chunk := spool.read(1 << 20):
                        copy.write(chunk)
        bar.close()
        report.seconds["generate and copy"] = time.perf_counter() - started
        log(
            f"Rows copied in {report.seconds['generate and copy']:.1f} s; "
            "rebuilding indexes and keys…"
        )
        mark = time.perf_counter()
        for statement in schema.restore:
            step = time.perf_counter()
            cursor.execute(statement)
            log(f"  {time.perf_counter() - step:6.1f} s  {statement[:110]}")
        for statement in connection.ops.sequence_reset_sql(
            no_style(), [Plan, Subscriber, Equipment, TimelineEvent]
        ):
            cursor.execute(statement)
        report.seconds["indexes and keys"] = time.perf_counter() - mark
        mark = time.perf_counter()
        for table in tables:
            cursor.execute(f"ANALYZE {quote(table)}")
        report.seconds["analyze"] = time.perf_counter() - mark


def _stream(
    bundles: Iterator[Bundle],
    copy: Any,
    subscriber_file: IO[str],
    equipment_file: IO[str],
    stamps: _Stamps,
    now_text: str,
    report: LoadReport,
    bar: tqdm[Any],
) -> None:
    """Write each bundle as COPY text lines. Generated text never holds tabs, newlines or
    backslashes, so it needs no escaping (tests/subscribers/test_seeding.py checks)."""
    lines: list[str] = []
    subscriber_lines: list[str] = []
    equipment_lines: list[str] = []
    pending = 0
    events = subscribers = equipment = 0
    for bundle in bundles:
        s = bundle.subscriber
        subscriber_lines.append(
            f"{s.id}\t{s.account_number}\t{s.name}\t{s.phone}\t{s.email}\t{s.language}\t"
            f"{s.time_zone}\t{s.region}\t{s.segment}\t{s.status}\t{s.signup_date.isoformat()}\t"
            f"{s.plan_id}\t{_eur(s.monthly_cents)}\t{_day_text(s.promo_ends_on)}\t"
            f"{'-' if s.balance_cents < 0 else ''}{_eur(abs(s.balance_cents))}\t"
            f"{_eur(s.arrears_cents)}\t{s.payment_method}\t"
            f"{'t' if s.do_not_call else 'f'}\t{'t' if s.do_not_email else 'f'}\t"
            f"{'t' if s.do_not_sms else 'f'}\t{s.churn_risk}\t{s.churn_risk_reasons}\t{now_text}\n"
        )
        for e in bundle.equipment:
            equipment_lines.append(
                f"{e.id}\t{e.subscriber_id}\t{e.kind}\t{e.model_name}\t{e.serial}\t{e.status}\t"
                f"{e.return_method}\t{_day_text(e.return_due_on)}\t{_day_text(e.shipped_on)}\t"
                f"{_day_text(e.returned_on)}\n"
            )
        for eid, sid, kind, at, source, ext, summary, data in bundle.events:
            stamp = stamps(at)
            lines.append(
                # What billing and the network sent: the timeline says it from the data where it
                # can (subscribers.phrases.event_phrase), so no phrase of the desk's own.
                f"{eid}\t{sid}\t{kind}\t{stamp}\t\\N\t{source}\t{ext or NULL}\t"
                f"{summary}\t\t{{}}\t{data}\t{stamp}\n"
            )
        events += len(bundle.events)
        equipment += len(bundle.equipment)
        subscribers += 1
        pending += 1
        if pending == 2000:
            copy.write("".join(lines))
            subscriber_file.write("".join(subscriber_lines))
            equipment_file.write("".join(equipment_lines))
            lines.clear()
            subscriber_lines.clear()
            equipment_lines.clear()
            bar.update(pending)
            pending = 0
    copy.write("".join(lines))
    subscriber_file.write("".join(subscriber_lines))
    equipment_file.write("".join(equipment_lines))
    bar.update(pending)
    report.subscribers, report.equipment, report.events = subscribers, equipment, events
