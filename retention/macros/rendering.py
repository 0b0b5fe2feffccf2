"""A template's text in the subscriber's language, its placeholders filled in.

The stored text is never given to a template engine: only the placeholders named in
``PLACEHOLDERS`` are replaced, in one pass, so a value that contains braces (a name, an offer)
is not expanded again and ``{{ ... }}`` or ``{% ... %}`` in a text stays as written.
"""

import re
from dataclasses import dataclass

from django.utils.translation import override

from offers.models import CounterOffer
from retention.models import CancellationCase, MessageTemplate, User
from subscribers.models import Subscriber
from subscribers.phrases import money

PLACEHOLDERS = ("name", "plan", "price", "new_customer_price", "offer", "agent")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
# What ``{offer}`` becomes while the case has no offer under way: a gap the agent sees and
# must fill (MessageForm refuses a text that still has it), never an empty string that would
# send "we would like to make that right: ." to the subscriber.
GAP = "[…]"


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    language: str  # the language of the text: the subscriber's, or "en" when theirs is missing
    wanted: str  # the subscriber's language
    gaps: bool = False  # a placeholder had nothing to say (the offer, with none under way)

    @property
    def fell_back(self) -> bool:
        return self.language != self.wanted


def fill(text: str, values: dict[str, str]) -> str:
    """Replace the known placeholders; anything else between braces stays literally."""
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def macro_render(
    *,
    template: MessageTemplate,
    subscriber: Subscriber,
    agent: User,
    offer: CounterOffer | None = None,
) -> Rendered:
    """The template's subject and text in the subscriber's language (English when that
    language's text is missing), amounts and the offer as that language writes them."""
    wanted = subscriber.writes_in
    body = getattr(template, f"body_{wanted}", "")
    language = wanted if body.strip() else "en"
    body = body if language == wanted else template.body_en
    subject = getattr(template, f"subject_{language}", "") or template.subject_en
    values = macro_values(subscriber=subscriber, agent=agent, offer=offer, language=language)
    subject, body = fill(subject, values), fill(body, values)
    return Rendered(subject, body, language, wanted, gaps=GAP in subject or GAP in body)


def macro_values(
    *, subscriber: Subscriber, agent: User, offer: CounterOffer | None, language: str
) -> dict[str, str]:
    """What each placeholder stands for, amounts and the offer's name in ``language``."""
    with override(language):
        return {
            "name": subscriber.name,
            "plan": subscriber.plan.name,
            "price": money(subscriber.monthly_price),
            "new_customer_price": money(subscriber.plan.new_customer_price),
            "offer": str(offer.template.label) if offer is not None else GAP,
            "agent": agent.get_full_name() or agent.username,
        }


def case_live_offer(*, case: CancellationCase) -> CounterOffer | None:
    """The offer under way on the case, the one a message speaks of."""
    return (
        CounterOffer.objects.filter(case=case, status__in=CounterOffer.LIVE_STATUSES)
        .select_related("template")
        .order_by("-id")
        .first()
    )
