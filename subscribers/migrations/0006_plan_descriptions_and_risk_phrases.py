"""The demo plans get their description in each language (out of their names), and churn-risk
reasons written as English sentences become phrases (subscribers.phrases), said in the
reader's language. A reason this does not recognise stays as the text it was."""

import re

from django.db import migrations

# The demo catalogue's plans (subscribers.seeding.PLAN_DESCRIPTIONS when this was written).
DESCRIPTIONS = {
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
# Names that carried an English description: "Stundas 30 (30 h a month)".
NAMED = {"stundas-30": "Stundas 30", "stundas-10": "Stundas 10"}

REASONS = [
    (
        re.compile(
            r"^Pays €(?P<amount>[\d.]+) a month \(\+(?P<percent>\d+)%\) more than new customers$"
        ),
        "risk.loyalty_penalty",
    ),
    (
        re.compile(r"^Customer for (?P<years>\d+) years? without a loyalty offer$"),
        "risk.long_tenure",
    ),
    (re.compile(r"^(?P<count>\d+) outages? in the last 12 months$"), "risk.outages"),
    (
        re.compile(r"^€(?P<amount>[\d.]+) in arrears \((?P<count>\d+) missed payments?\)$"),
        "risk.arrears",
    ),
    (re.compile(r"^(?P<count>\d+) support tickets? in the last 90 days$"), "risk.tickets"),
    (re.compile(r"^Discount ends in (?P<days>\d+) days?$"), "risk.discount_ends"),
    (re.compile(r"^On a plan no longer sold \((?P<plan>.+)\)$"), "risk.old_plan"),
    (re.compile(r"^Largest account: contract renewal due this year$"), "risk.renewal_due"),
    (re.compile(r"^Site outages$"), "risk.site_outages"),
]
COUNTS = {"percent", "years", "count", "days"}


def reason_phrase(text):
    if not isinstance(text, str):
        return text
    for pattern, code in REASONS:
        found = pattern.match(text)
        if found:
            params = {
                name: int(value) if name in COUNTS else value
                for name, value in found.groupdict().items()
            }
            if code == "risk.old_plan":
                params["plan"] = re.sub(r" \(.*\)$", "", params["plan"])
            return {"code": code, "params": params}
    return text


def forwards(apps, schema_editor):
    Plan = apps.get_model("subscribers", "Plan")
    for plan in Plan.objects.filter(code__in=list(DESCRIPTIONS)):
        en, lv, ru = DESCRIPTIONS[plan.code]
        plan.description_en = plan.description_en or en
        plan.description_lv = plan.description_lv or lv
        plan.description_ru = plan.description_ru or ru
        if plan.code in NAMED and plan.name.startswith(NAMED[plan.code] + " ("):
            plan.name = NAMED[plan.code]
        plan.save(update_fields=["description_en", "description_lv", "description_ru", "name"])

    Subscriber = apps.get_model("subscribers", "Subscriber")
    changed = []
    rows = Subscriber.objects.exclude(churn_risk_reasons=[]).only("id", "churn_risk_reasons")
    for subscriber in rows.iterator(chunk_size=5000):
        reasons = subscriber.churn_risk_reasons
        if not isinstance(reasons, list) or not any(isinstance(r, str) for r in reasons):
            continue
        subscriber.churn_risk_reasons = [reason_phrase(reason) for reason in reasons]
        changed.append(subscriber)
        if len(changed) >= 2000:
            Subscriber.objects.bulk_update(changed, ["churn_risk_reasons"])
            changed = []
    Subscriber.objects.bulk_update(changed, ["churn_risk_reasons"])


def backwards(apps, schema_editor):
    """The reasons in English again (the plans keep their new names: harmless)."""
    from subscribers.phrases import said

    Subscriber = apps.get_model("subscribers", "Subscriber")
    changed = []
    rows = Subscriber.objects.exclude(churn_risk_reasons=[]).only("id", "churn_risk_reasons")
    for subscriber in rows.iterator(chunk_size=5000):
        reasons = subscriber.churn_risk_reasons
        if isinstance(reasons, list) and any(isinstance(r, dict) for r in reasons):
            from django.utils import translation

            with translation.override("en"):
                subscriber.churn_risk_reasons = [said(reason) for reason in reasons]
            changed.append(subscriber)
    Subscriber.objects.bulk_update(changed, ["churn_risk_reasons"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [("subscribers", "0005_phrases_and_plan_descriptions")]

    operations = [migrations.RunPython(forwards, backwards)]
