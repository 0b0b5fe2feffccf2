"""What the desk says, stored as a code with parameters and said in the reader's language.

A stored sentence is frozen in one language, so the desk stores a code and its parameters
instead: a timeline event, a history row, a notification or a churn-risk reason the desk writes
keeps a ``code`` naming one of the phrases (``catalogue``) and its ``params`` as JSON;
``render`` says it in the active language (a page: the reader's), or in the one asked for (an
e-mail: the recipient's).

Parameters are stored raw (amounts as "29.99", dates and times as ISO text, choices as their
value) and each phrase says how to show each one: money, dates and numbers the same way on
every page of a language (``money``, ``day``, ``moment``; lv and ru write a decimal comma), a
choice as its label. A parameter may itself be a phrase (``{"code": …, "params": …}``, e.g. an
offer's terms inside "Offer presented: …") or a name given in each language (``{"en": …,
"lv": …, "ru": …}``, e.g. a cancellation reason). Anything else (a name, a note somebody
wrote) is shown as it is.

The package sits in the lowest app so that every app, and every app's models, may use it; so
it imports no models itself and names the choices it shows by an "app.Model.field" path,
read when a phrase is said. Its rooms:
``catalogue`` (the phrases), ``formatting`` (money, dates, numbers, choices), ``saying``
(storing and rendering a phrase) and ``events`` (billing's and the network's events).
"""

from subscribers.phrases.catalogue import OUTAGE_CAUSES, PHRASES, Params, Phrase, outage_cause
from subscribers.phrases.events import event_phrase
from subscribers.phrases.formatting import (
    Label,
    clock,
    day,
    duration,
    moment,
    money,
    month,
    names,
    number,
    wall,
)
from subscribers.phrases.saying import FieldsSaid, as_params, changes_said, phrase, render, said

__all__ = [
    "OUTAGE_CAUSES",
    "PHRASES",
    "FieldsSaid",
    "Label",
    "Params",
    "Phrase",
    "as_params",
    "changes_said",
    "clock",
    "day",
    "duration",
    "event_phrase",
    "moment",
    "money",
    "month",
    "names",
    "number",
    "outage_cause",
    "phrase",
    "render",
    "said",
    "wall",
]
