"""The demo's message templates (macros) for the common reasons, in English, Latvian and
Russian; added by ``seed_cases`` and kept as an admin left them once they exist."""

from dataclasses import dataclass
from datetime import time

from retention.models import CancellationReason, MessageTemplate


@dataclass(frozen=True)
class DemoMacro:
    name: str
    channel: str
    reasons: tuple[str, ...]
    subject: tuple[str, str, str]  # en, lv, ru
    body: tuple[str, str, str]
    callback_days: int | None = None
    callback_time: time | None = None
    callback_hours: int | None = None
    note: str = ""


MACROS = (
    DemoMacro(
        name="Price: a better price for you",
        channel="email",
        reasons=("price", "competitor"),
        subject=(
            "A better price for your {plan}",
            "Labāka cena jūsu {plan}",
            "Лучшая цена для вашего {plan}",
        ),
        body=(
            "Hello, {name}.\n\nThank you for talking to us. You pay {price} a month for {plan}; "
            "new customers pay {new_customer_price}. We would like to make that right: {offer}.\n"
            "I will call you to go through it.\n\n{agent}, Retention Desk",
            "Labdien, {name}!\n\nPaldies par sarunu. Jūs maksājat {price} mēnesī par {plan}; "
            "jaunie klienti maksā {new_customer_price}. Mēs vēlamies to labot: {offer}.\n"
            "Es jums piezvanīšu, lai visu pārrunātu.\n\n{agent}, klientu noturēšanas nodaļa",
            "Здравствуйте, {name}!\n\nСпасибо за разговор. Вы платите {price} в месяц за {plan}; "
            "новые клиенты платят {new_customer_price}. Мы хотим это исправить: {offer}.\n"
            "Я позвоню вам, чтобы всё обсудить.\n\n{agent}, отдел удержания клиентов",
        ),
        callback_days=2,
        callback_time=time(10, 0),
        note="Sent the price letter; call back to go through the offer.",
    ),
    DemoMacro(
        name="Outages: we are sorry",
        channel="email",
        reasons=("quality",),
        subject=(
            "About the outages on your line",
            "Par pārtraukumiem jūsu līnijā",
            "Об авариях на вашей линии",
        ),
        body=(
            "Hello, {name}.\n\nWe are sorry for the outages you had. Our engineers have looked at "
            "your line, and we would like to make it up to you: {offer}.\n\n"
            "{agent}, Retention Desk",
            "Labdien, {name}!\n\nAtvainojamies par pārtraukumiem. Mūsu inženieri ir pārbaudījuši "
            "jūsu līniju, un mēs vēlamies to kompensēt: {offer}.\n\n{agent}, klientu noturēšanas "
            "nodaļa",
            "Здравствуйте, {name}!\n\nПриносим извинения за аварии. Наши инженеры проверили вашу "
            "линию, и мы хотим это компенсировать: {offer}.\n\n{agent}, отдел удержания клиентов",
        ),
        callback_days=1,
        callback_time=time(11, 0),
        note="Sent the outage apology; call back tomorrow.",
    ),
    DemoMacro(
        name="Moving: take the service with you",
        channel="email",
        reasons=("moving",),
        subject=(
            "Moving? Your {plan} can move with you",
            "Pārceļaties? {plan} var pārcelties līdz ar jums",
            "Переезжаете? {plan} может переехать с вами",
        ),
        body=(
            "Hello, {name}.\n\nIf your new address is in our network, we move your service free "
            "of charge and keep your price of {price} a month. Reply with the new address and we "
            "will check it.\n\n{agent}, Retention Desk",
            "Labdien, {name}!\n\nJa jūsu jaunā adrese ir mūsu tīklā, mēs pārcelsim pakalpojumu "
            "bez maksas un saglabāsim jūsu cenu {price} mēnesī. Atsūtiet jauno adresi, un mēs to "
            "pārbaudīsim.\n\n{agent}, klientu noturēšanas nodaļa",
            "Здравствуйте, {name}!\n\nЕсли ваш новый адрес в нашей сети, мы бесплатно перенесём "
            "услугу и сохраним вашу цену {price} в месяц. Пришлите новый адрес, и мы его "
            "проверим.\n\n{agent}, отдел удержания клиентов",
        ),
        callback_days=3,
        callback_time=time(10, 0),
    ),
    DemoMacro(
        name="Missed you: call-back SMS",
        channel="sms",
        reasons=(),
        subject=("", "", ""),
        body=(
            "Hello, {name}. We tried to reach you about your cancellation. We will call again; "
            "you can also reply to this message. {agent}, Retention Desk",
            "Labdien, {name}! Mēģinājām ar jums sazināties par līguma laušanu. Mēs zvanīsim "
            "vēlreiz; varat arī atbildēt uz šo ziņu. {agent}, klientu noturēšana",
            "Здравствуйте, {name}! Мы пытались связаться с вами по поводу расторжения. Мы "
            "перезвоним; вы также можете ответить на это сообщение. {agent}, удержание клиентов",
        ),
        callback_hours=3,
    ),
    DemoMacro(
        name="Hardship: a payment plan",
        channel="sms",
        reasons=("hardship",),
        subject=("", "", ""),
        body=(
            "Hello, {name}. We can spread what you owe over a few months and lower your bill for "
            "a while: {offer}. We will call you. {agent}, Retention Desk",
            "Labdien, {name}! Mēs varam sadalīt parādu uz dažiem mēnešiem un uz laiku samazināt "
            "rēķinu: {offer}. Mēs jums piezvanīsim. {agent}, klientu noturēšana",
            "Здравствуйте, {name}! Мы можем разделить долг на несколько месяцев и на время "
            "снизить счёт: {offer}. Мы вам позвоним. {agent}, удержание клиентов",
        ),
        callback_days=2,
        callback_time=time(10, 0),
        note="Offered a payment plan by SMS.",
    ),
)


def macros_seed() -> int:
    """Add the demo macros that are missing (by name); answer how many were added."""
    reasons = {r.code: r for r in CancellationReason.objects.all()}
    added = 0
    for demo in MACROS:
        template, created = MessageTemplate.objects.get_or_create(
            name=demo.name,
            defaults={
                "channel": demo.channel,
                "subject_en": demo.subject[0],
                "subject_lv": demo.subject[1],
                "subject_ru": demo.subject[2],
                "body_en": demo.body[0],
                "body_lv": demo.body[1],
                "body_ru": demo.body[2],
                "callback_days": demo.callback_days,
                "callback_time": demo.callback_time,
                "callback_hours": demo.callback_hours,
                "note": demo.note,
            },
        )
        if created:
            template.reasons.set([reasons[c] for c in demo.reasons if c in reasons])
            added += 1
    return added
