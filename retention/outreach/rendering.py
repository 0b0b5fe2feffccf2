"""What a campaign's message says to one subscriber, in their language, and the preview a
manager reads before launching.

A message is written once per language with placeholders (``{name}``, ``{new_price}``…); the
subscriber's name, the offer in their language and the amounts as that language writes them
are filled in when it is sent. Anything else between braces is refused before it is saved.
"""

import string
from dataclasses import dataclass

from django.db.models import Count, Min
from django.utils.translation import gettext as _
from django.utils.translation import override

from offers.models import OfferTemplate
from offers.pricing import Terms, fit_moves_to, offer_cost
from retention.core.refusals import InvalidInput
from retention.models import OutreachCampaign
from retention.outreach.audience import campaign_matching
from retention.outreach.links import preview_link, stop_preview_link
from subscribers.models import ContactChannel, Subscriber, TariffFit
from subscribers.phrases import money

PLACEHOLDERS = ("name", "offer", "price", "new_price", "link")
LANGUAGES = ("lv", "ru", "en")


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def campaign_said(campaign: OutreachCampaign) -> str | dict[str, str]:
    """The campaign's name as a phrase parameter: a manager's campaign by the name they gave
    it; the desk's notice by its name in each language, said in each reader's."""
    if not campaign.is_notice:
        return campaign.name
    said = {}
    for language in LANGUAGES:
        with override(language):
            said[language] = campaign.title
    return said


def message_render(
    campaign: OutreachCampaign,
    subscriber: Subscriber,
    *,
    link: str,
    fit: TariffFit | None = None,
    template: OfferTemplate | None = None,
) -> tuple[str, str, str]:
    """The subject and text in the subscriber's language, and that language. A best tariff
    notice (``fit``: the subscriber's tariff fit, its plan loaded) is the desk's own text.
    ``template``: the message's own offer (an experiment arm's), else the campaign's."""
    language = subscriber.writes_in
    if campaign.is_notice:
        with override(language):
            subject, text = notice_render(campaign, subscriber, fit, link=link)
        return subject, text, language
    body = getattr(campaign, f"body_{language}") or campaign.body_en
    # Amounts as the text's language writes them (the English text when theirs is missing).
    written_in = language if getattr(campaign, f"body_{language}") else "en"
    template = template or campaign.template
    terms = Terms.of(template)
    cost = offer_cost(terms=terms, subscriber=subscriber)
    # The offer's name in the subscriber's language, not the sender's (a worker runs in the
    # default language, a manager previews in theirs).
    with override(language):
        label = template.label
    with override(written_in):
        price, new_price = money(subscriber.monthly_price), money(cost.new_monthly_price)
    values = _Values(name=subscriber.name, offer=label, price=price, new_price=new_price, link=link)
    text = string.Formatter().vformat(body, (), values)
    return campaign.subject or label, text, language


def notice_render(
    campaign: OutreachCampaign, subscriber: Subscriber, fit: TariffFit | None, *, link: str
) -> tuple[str, str]:
    """The best tariff notice in the active language: the plan that fits them and what it
    saves, or that their own plan fits them best. Everyone hears it, not only those who would
    save."""
    subject = _("Your best tariff for %(year)s") % {"year": campaign.year}
    hello = _(
        "Hello, %(name)s. Once a year we look at how you use your Internet service and tell you "
        "which of our plans fits you best."
    ) % {"name": subscriber.name}
    if fit is None:
        return subject, f"{hello} {link}"
    figures = {
        "months": fit.months,
        "plan": subscriber.plan.name,
        "current": money(fit.current_cost),
        "best": fit.best_plan.name,
        "best_cost": money(fit.best_cost),
        "saving": money(fit.saving),
        "link": link,
    }
    moves_to = fit_moves_to(fit, subscriber)
    if moves_to is None:
        said = _(
            "Your plan %(plan)s already fits you best: over the last %(months)s months you paid "
            "%(current)s a month on average. There is nothing you need to do. Details: %(link)s"
        )
    elif fit.saving > 0:
        said = _(
            "Over the last %(months)s months you paid %(current)s a month on average on "
            "%(plan)s. On %(best)s you would have paid %(best_cost)s a month: %(saving)s a month "
            "less. See it and switch if you like: %(link)s"
        )
    else:
        said = _(
            "Over the last %(months)s months you paid %(current)s a month on average on "
            "%(plan)s, which does not hold how you use it. %(best)s does, for %(best_cost)s a "
            "month. See it and switch if you like: %(link)s"
        )
    return subject, f"{hello} {said % figures}"


def with_stop(text: str, *, channel: str, url: str, language: str) -> str:
    """The message with its "stop contacting me" line, in the subscriber's language: every
    outreach message carries one (a short one in an SMS)."""
    with override(language):
        if channel == ContactChannel.SMS:
            return f"{text} " + _("Stop: %(url)s") % {"url": url}
        footer = _(
            "You get this message as our customer. To stop e-mails, SMS or calls from us: %(url)s"
        ) % {"url": url}
    return f"{text}\n\n-- \n{footer}"


def body_check(body: str) -> str:
    """Raise InvalidInput for a placeholder that does not exist or is malformed."""
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(body) if name is not None}
    except ValueError as exc:
        raise InvalidInput(
            _("The message has a stray { or }: %(error)s") % {"error": exc}
        ) from None
    unknown = fields - set(PLACEHOLDERS)
    if unknown:
        raise InvalidInput(
            _("Unknown placeholders: %(names)s. Use %(known)s.")
            % {
                "names": ", ".join(sorted(unknown)),
                "known": ", ".join("{" + p + "}" for p in PLACEHOLDERS),
            }
        )
    return body


@dataclass(frozen=True)
class Preview:
    matched: int
    samples: list[tuple[Subscriber, str, str]]  # subscriber, language, text


def campaign_preview(campaign: OutreachCampaign, *, samples: int = 3) -> Preview:
    """How many match now and one sample message per language: two queries, whatever the
    size (one counts everyone who matches by language, noting the first of each; one reads
    those few)."""
    by_language = (
        campaign_matching(campaign)
        .values("language")
        .annotate(n=Count("pk"), first=Min("pk"))
        .order_by()
    )
    counted = list(by_language)
    firsts = {row["language"]: row["first"] for row in counted if row["language"] in LANGUAGES}
    chosen = {
        s.pk: s for s in Subscriber.objects.filter(pk__in=firsts.values()).select_related("plan")
    }
    found = []
    for language in LANGUAGES:
        subscriber = chosen.get(firsts.get(language, 0))
        if subscriber is not None:
            _, text, lang = message_render(campaign, subscriber, link=preview_link())
            text = with_stop(text, channel=campaign.channel, url=stop_preview_link(), language=lang)
            found.append((subscriber, lang, text))
    matched = sum(row["n"] for row in counted)
    return Preview(matched=matched, samples=found[:samples])
