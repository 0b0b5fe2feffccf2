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

from offers.pricing import Terms, offer_cost
from retention.core.refusals import InvalidInput
from retention.models import OutreachCampaign
from retention.outreach.audience import campaign_matching
from retention.outreach.links import preview_link
from subscribers.models import Subscriber
from subscribers.phrases import money

PLACEHOLDERS = ("name", "offer", "price", "new_price", "link")
LANGUAGES = ("lv", "ru", "en")


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def message_render(
    campaign: OutreachCampaign, subscriber: Subscriber, *, link: str
) -> tuple[str, str, str]:
    """The subject and text in the subscriber's language, and that language."""
    language = subscriber.language if subscriber.language in LANGUAGES else "lv"
    body = getattr(campaign, f"body_{language}") or campaign.body_en
    # Amounts as the text's language writes them (the English text when theirs is missing).
    written_in = language if getattr(campaign, f"body_{language}") else "en"
    terms = Terms.of(campaign.template)
    cost = offer_cost(terms=terms, subscriber=subscriber)
    # The offer's name in the subscriber's language, not the sender's (a worker runs in the
    # default language, a manager previews in theirs).
    with override(language):
        label = campaign.template.label
    with override(written_in):
        price, new_price = money(subscriber.monthly_price), money(cost.new_monthly_price)
    values = _Values(name=subscriber.name, offer=label, price=price, new_price=new_price, link=link)
    text = string.Formatter().vformat(body, (), values)
    return campaign.subject or label, text, language


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
            found.append((subscriber, lang, text))
    matched = sum(row["n"] for row in counted)
    return Preview(matched=matched, samples=found[:samples])
