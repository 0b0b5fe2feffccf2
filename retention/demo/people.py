"""Who the demo subscribers are: regions, the names Latvian, Russian-speaking and foreign
customers have, business names, and the e-mail addresses they give."""

from collections.abc import Callable, Sequence
from typing import Any

REGIONS = ("Rīga", "Pierīga", "Kurzeme", "Vidzeme", "Zemgale", "Latgale")
REGION_WEIGHTS = (34, 20, 12, 11, 12, 11)
# Share of Russian speakers by region; Latgale and Rīga have the most.
RUSSIAN_SHARE = {
    "Rīga": 0.40,
    "Pierīga": 0.25,
    "Kurzeme": 0.12,
    "Vidzeme": 0.08,
    "Zemgale": 0.14,
    "Latgale": 0.55,
}
REGION_TOWNS = {
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
CORPORATE_NAMES = (
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


def ascii_name(text: str) -> str:
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

Random = Callable[[], float]
RandRange = Callable[..., int]


def _choice(rnd: Random, seq: Sequence[Any]) -> Any:
    return seq[int(rnd() * len(seq))]


def person(rnd: Random, randrange: RandRange, region: str) -> tuple[str, str, str, str]:
    """(name, e-mail, language, time zone) of a private person in ``region``."""
    female = rnd() < 0.52
    roll = rnd()
    zone = "Europe/Riga"
    domains: tuple[str, ...]
    if roll < RUSSIAN_SHARE[region] * 0.97:
        language, domains = "ru", _RU_DOMAINS
        first, last = _russian_name(rnd, female)
    elif roll > 0.97:
        language, domains = "en", _PERSONAL_DOMAINS
        first, last, zone = _foreign_name(rnd, randrange, zone)
    else:
        language, domains = "lv", _PERSONAL_DOMAINS
        first = _choice(rnd, _LV_FEMALE if female else _LV_MALE)
        last = _choice(rnd, _LV_SURNAMES)[female]
    return f"{first} {last}", _email(rnd, randrange, first, last, domains), language, zone


def _russian_name(rnd: Random, female: bool) -> tuple[str, str]:
    """As Latvian documents spell it, or for about a fifth in Cyrillic."""
    if rnd() < 0.2:
        first = _choice(rnd, _RU_CYR_FEMALE if female else _RU_CYR_MALE)
        return first, _choice(rnd, _RU_CYR_SURNAMES)[female]
    first = _choice(rnd, _RU_FEMALE if female else _RU_MALE)
    return first, _choice(rnd, _RU_SURNAMES)[female]


def _foreign_name(rnd: Random, randrange: RandRange, zone: str) -> tuple[str, str, str]:
    """A Lithuanian or English-speaking customer: (first name, surname, time zone)."""
    if rnd() < 0.25:
        first, last = _choice(rnd, _LT_NAMES).split(" ")
        return first, last, "Europe/Vilnius" if rnd() < 0.7 else zone
    first, last = _choice(rnd, _EN_FIRST), _choice(rnd, _EN_SURNAMES)
    zones = ("Europe/London", "Europe/London", "Europe/Dublin", "Europe/Berlin", zone)
    return first, last, zones[randrange(5)]


def _email(
    rnd: Random, randrange: RandRange, first: str, last: str, domains: tuple[str, ...]
) -> str:
    style = randrange(4)
    a, b = ascii_name(first), ascii_name(last)
    # Every style's numbers are drawn, whichever is used: the random stream stays the same.
    local = (
        f"{a}.{b}",
        f"{a}{b}{randrange(60, 100)}",
        f"{a[0]}.{b}",
        f"{b}.{a}{randrange(1, 30)}",
    )[style]
    return f"{local}@{_choice(rnd, domains)}"


def company_domain(name: str) -> str:
    """The web domain of a company named ``AS "Name"``."""
    return ascii_name(name.split('"')[1]).replace(".", "-") + ".lv"


def business(rnd: Random, randrange: RandRange, corporate: bool) -> tuple[str, str]:
    """(name, e-mail) of a small business, or of a corporate customer's branch."""
    if corporate:
        base = _choice(rnd, CORPORATE_NAMES)
        name = base if rnd() < 0.3 else f"{base} filiāle {randrange(2, 40)}"
        return name, f"it@{company_domain(base)}"
    adj, noun = _choice(rnd, _BUSINESS_ADJ), _choice(rnd, _BUSINESS_NOUN)
    kind = "SIA" if rnd() < 0.85 else "IK"
    domain = f"{ascii_name(adj)}-{ascii_name(noun)}.lv"
    return (
        f'{kind} "{adj} {noun}"',
        f"{('info', 'birojs', 'gramatvediba')[randrange(3)]}@{domain}",
    )
