"""Sentences the desk stored (timeline summaries, history notes, notifications) become phrases:
a code and its parameters (subscribers.phrases), said in each reader's language.

Each row is matched against the sentences the desk used to write; a row that matches none (a
note somebody wrote, what billing sent, text from a version before these) stays as it was. The
desk wrote timeline and history text in English; notifications were translated when they were
made, so they are matched in each language. The patterns are copied here, as they were: the
code that wrote them has changed since.
"""

import re
from datetime import datetime

from django.conf import settings
from django.db import migrations
from django.utils import translation

CHUNK = 2000
DATE = r"\d{4}-\d{2}-\d{2}"
LANGUAGES = [code for code, _name in settings.LANGUAGES]

# English labels the sentences used, lower-cased, back to their values.
CASE_CHANNELS = {
    "phone": "phone",
    "web": "web",
    "e-mail": "email",
    "shop": "shop",
    "port-out notice": "port_out",
}
CONTACT_CHANNELS = {"phone call": "phone", "e-mail": "email", "sms": "sms"}
DIRECTIONS = {"outbound": "outbound", "inbound": "inbound"}
OUTCOMES = {
    "reached": "reached",
    "no answer": "no_answer",
    "voicemail": "voicemail",
    "callback requested": "callback_requested",
    "refused to talk": "refused",
}
EQUIPMENT = {
    "Router": "router",
    "Set-top box": "set_top_box",
    "Optical terminal (ONT)": "ont",
    "Modem": "modem",
    "Wi-Fi mesh point": "mesh",
}
OFFER_STATUSES = {
    "pending approval": "pending",
    "approved": "approved",
    "rejected": "rejected",
    "presented": "presented",
    "accepted": "accepted",
    "declined": "declined",
    "expired": "expired",
    "withdrawn": "withdrawn",
}
END_NOTES = {
    "the cancellation was withdrawn": "offer.end.case_withdrawn",
    "the cancellation was processed": "offer.end.case_cancelled",
    "nobody decided it in time": "offer.end.not_decided",
    "not presented in time": "offer.end.not_presented",
    "not answered in time": "offer.end.not_answered",
}
PORT_OUT_REFUSAL = "This subscriber is porting out: the one save contact has been made."


def phrase(code, **params):
    return {"code": code, "params": params}


def note_phrase(note):
    code = END_NOTES.get(note)
    return phrase(code) if code else note


# --- Offers: their terms, as offers.pricing.terms_phrase says them -------------------------------


class Offers:
    """Counter-offers by id, read a chunk at a time, with their terms as a phrase."""

    def __init__(self, apps):
        self.CounterOffer = apps.get_model("offers", "CounterOffer")
        self.plans = dict(apps.get_model("subscribers", "Plan").objects.values_list("id", "name"))
        self.templates = {
            row["name_en"]: {
                lang: row[f"name_{lang}"] for lang in ("en", "lv", "ru") if row[f"name_{lang}"]
            }
            for row in apps.get_model("offers", "OfferTemplate").objects.values(
                "name_en", "name_lv", "name_ru"
            )
        }
        self.found = {}

    def load(self, ids):
        wanted = {i for i in ids if i is not None and i not in self.found}
        if wanted:
            self.found.update(self.CounterOffer.objects.in_bulk(list(wanted)))

    def terms(self, pk):
        offer = self.found.get(pk)
        if offer is None:
            return None
        kind = offer.kind
        if kind == "plan_change":
            code = "terms.plan_change_months" if offer.months else "terms.plan_change"
        else:
            code = f"terms.{kind}"
        plan = self.plans.get(offer.new_plan_id) if offer.new_plan_id else None
        return phrase(
            code,
            months=offer.months,
            days=offer.days,
            percent=str(offer.percent or "0.00"),
            amount=str(offer.monthly_concession or offer.one_time_concession),
            price=str(offer.new_monthly_price),
            plan=plan or phrase("terms.same_plan"),
        )


# --- Timeline events -----------------------------------------------------------------------------

EVENT_PATTERNS = [
    (
        "requested",
        re.compile(r"^Asked to cancel by (?P<channel>[a-z -]+?)(?: \((?P<reason>.+)\))?$"),
    ),
    (
        "port_out",
        re.compile(rf"^Port-out notice: switching on (?P<date>{DATE})(?: to (?P<competitor>.+))?$"),
    ),
    ("cancelled", re.compile(rf"^Cancellation processed: service and billing end on ({DATE})$")),
    ("withdrawn", re.compile(r"^Withdrew the cancellation: (?P<note>.*)$", re.S)),
    (
        "return_requested",
        re.compile(
            rf"^Return requested by (?P<date>{DATE}) \(courier pickup, partner drop-off or "
            r"prepaid mail label\): (?P<serials>.*)$"
        ),
    ),
    ("returned", re.compile(r"^(?P<kind>.+) (?P<serial>\S+) returned$")),
    (
        "desk_contact",
        re.compile(
            r"^(?P<direction>Outbound|Inbound) (?P<channel>phone call|e-mail|sms) by the retention "
            r"desk: (?P<outcome>.+)$"
        ),
    ),
    ("reminder", re.compile(r"^Equipment return reminder by (?P<channel>email|sms|phone)$")),
    (
        "outreach",
        re.compile(r"^Outreach (?P<channel>phone call|e-mail|sms): (?P<campaign>.*)$", re.S),
    ),
    (
        "responded",
        re.compile(
            r"^Responded to outreach \((?P<campaign>.*)\): (?P<answer>accepted the offer|asked for "
            r"a call)$",
            re.S,
        ),
    ),
    (
        "offer",
        re.compile(
            r"^Offer (?P<what>[a-z' ]+?)(?: by (?P<who>[^:]+?))?(?P<amended> with amended terms)?: "
        ),
    ),
    (
        "price",
        re.compile(rf"^Price €[\d.]+ → €[\d.]+ a month(?: until {DATE})? \(offer #\d+\)$"),
    ),
    (
        "plan",
        re.compile(
            rf"^Plan (?P<from>.+) → (?P<to>.+?)(?: until (?P<until>{DATE}))? \(offer #(?P<offer>\d+)\)$"
        ),
    ),
]
UNTIL = re.compile(rf" until ({DATE})$")


def event_phrase(event, offers, reasons):
    text, data = event.summary, event.data if isinstance(event.data, dict) else {}
    for name, pattern in EVENT_PATTERNS:
        found = pattern.match(text)
        if not found:
            continue
        g = found.groupdict()
        if name == "requested" and g["channel"] in CASE_CHANNELS:
            channel = CASE_CHANNELS[g["channel"]]
            if g["reason"]:
                names = reasons.get(g["reason"], {"en": g["reason"]})
                return phrase("case.requested_reason", channel=channel, reason=names)
            return phrase("case.requested", channel=channel)
        if name == "port_out":
            if g["competitor"]:
                return phrase("case.port_out_to", date=g["date"], competitor=g["competitor"])
            return phrase("case.port_out", date=g["date"])
        if name == "cancelled":
            return phrase("subscriber.cancelled", date=found.group(1))
        if name == "withdrawn":
            return phrase("case.withdrawn", note=g["note"])
        if name == "return_requested":
            return phrase("equipment.return_requested", date=g["date"], serials=g["serials"])
        if name == "returned" and g["kind"] in EQUIPMENT:
            return phrase("equipment.returned", kind=EQUIPMENT[g["kind"]], serial=g["serial"])
        if name == "desk_contact" and g["outcome"] in OUTCOMES:
            return phrase(
                "contact.desk",
                direction=DIRECTIONS[g["direction"].lower()],
                channel=CONTACT_CHANNELS[g["channel"]],
                outcome=OUTCOMES[g["outcome"]],
            )
        if name == "reminder":
            return phrase("contact.equipment_reminder", channel=g["channel"])
        if name == "outreach":
            return phrase(
                "outreach.sent", channel=CONTACT_CHANNELS[g["channel"]], campaign=g["campaign"]
            )
        if name == "responded":
            code = "outreach.accepted" if g["answer"] == "accepted the offer" else "outreach.call"
            return phrase(code, campaign=g["campaign"])
        if name == "offer":
            return offer_event_phrase(event.kind, text, g, data, offers)
        if name == "price" and "offer" in data:
            until = data.get("until")
            params = {"offer": data["offer"], "from": data.get("from"), "to": data.get("to")}
            if until:
                return phrase("offer.price_changed_until", until=until, **params)
            return phrase("offer.price_changed", **params)
        if name == "plan":
            params = {"offer": int(g["offer"]), "from": g["from"], "to": g["to"]}
            if g["until"]:
                return phrase("offer.plan_changed_until", until=g["until"], **params)
            return phrase("offer.plan_changed", **params)
    return None


def offer_event_phrase(kind, text, g, data, offers):
    terms = offers.terms(data.get("offer"))
    if terms is None:
        return None
    cost = data.get("cost")
    what, who = g["what"], g["who"]
    rest = text[len(f"Offer {what}") :]
    if kind == "offer_proposed":
        return phrase("offer.proposed", offer=terms, cost=cost)
    if kind == "offer_approved" and what == "approved within the proposer's authority":
        return phrase("offer.auto_approved", offer=terms)
    if kind == "offer_approved" and who and g["amended"]:
        return phrase("offer.amended", offer=terms, who=who, cost=cost)
    if kind == "offer_approved" and who:
        return phrase("offer.approved", offer=terms, who=who)
    if kind == "offer_rejected" and who:
        return phrase("offer.rejected", offer=terms, who=who)
    if kind == "offer_presented":
        return phrase("offer.presented", offer=terms)
    if kind == "offer_accepted":
        until = UNTIL.search(rest)
        if until:
            return phrase("offer.accepted_until", offer=terms, until=until.group(1))
        return phrase("offer.accepted", offer=terms)
    if kind in ("offer_declined", "offer_withdrawn", "offer_expired"):
        note = rest.split(" — ", 1)[1] if " — " in rest else ""
        if kind == "offer_declined":
            if note:
                return phrase("offer.declined_note", offer=terms, note=note)
            return phrase("offer.declined", offer=terms)
        return phrase(f"offer.{kind[len('offer_') :]}", offer=terms, note=note_phrase(note))
    return None


EVENT_KINDS = [
    "cancellation_request",
    "port_out",
    "cancelled",
    "withdrawn",
    "equipment_return_requested",
    "equipment_returned",
    "contact",
    "offer_proposed",
    "offer_approved",
    "offer_rejected",
    "offer_presented",
    "offer_accepted",
    "offer_declined",
    "offer_withdrawn",
    "offer_expired",
    "price_change",
    "plan_change",
]


def reason_names(apps):
    names = {}
    for row in apps.get_model("retention", "CancellationReason").objects.values(
        "name_en", "name_lv", "name_ru"
    ):
        given = {lang: row[f"name_{lang}"] for lang in ("en", "lv", "ru") if row[f"name_{lang}"]}
        for name in given.values():
            names[name] = given
    return names


def convert(model, rows, to_phrase, fields, clear):
    """Give each row the phrase ``to_phrase`` finds for it, a chunk at a time."""
    changed = []
    for row in rows:
        found = to_phrase(row)
        if found is None:
            continue
        row.code, row.params = found["code"], found["params"]
        setattr(row, clear, "")
        changed.append(row)
        if len(changed) >= CHUNK:
            model.objects.bulk_update(changed, fields)
            changed = []
    model.objects.bulk_update(changed, fields)


def chunked(queryset, prepare):
    """Rows of ``queryset`` by id, ``prepare`` called on each chunk before it is handed out."""
    last = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last).order_by("pk")[:CHUNK])
        if not chunk:
            return
        prepare(chunk)
        yield from chunk
        last = chunk[-1].pk


def events_forwards(apps, offers, reasons):
    TimelineEvent = apps.get_model("subscribers", "TimelineEvent")
    rows = TimelineEvent.objects.filter(code="", kind__in=EVENT_KINDS).only(
        "id", "kind", "summary", "data", "code", "params"
    )

    def prepare(chunk):
        offers.load(e.data.get("offer") for e in chunk if isinstance(e.data, dict))

    convert(
        TimelineEvent,
        chunked(rows, prepare),
        lambda e: event_phrase(e, offers, reasons),
        ["code", "params", "summary"],
        "summary",
    )


# --- Case history --------------------------------------------------------------------------------

BINDS = re.compile(rf"^Port-out notice: the switch date ({DATE}) binds this case\.$")
AUTO = re.compile(
    rf"^Nobody resolved the case by its process-by date ({DATE}), so the cancellation was "
    r"processed as the subscriber asked\.$"
)
CALLBACK = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})$")
REASSIGNED = re.compile(r"^(?P<from>.+?) → (?P<to>.+?): (?P<reason>.*)$", re.S)
ARROW = re.compile(r"^(?P<from>.+) → (?P<to>.+)$")
OFFER_NOTE = re.compile(r"^Offer #(?P<id>\d+) (?P<status>[a-z ]+?): ")
OFFER_ACCEPTED = re.compile(r"^Offer accepted: (?P<name>.+)$")


class Labels:
    """Labels of the contact log's choices in every language, back to their values: the
    history's contact notes were written in the active language."""

    def __init__(self, apps):
        ContactAttempt = apps.get_model("retention", "ContactAttempt")
        fields = {name: ContactAttempt._meta.get_field(name) for name in ("direction", "outcome")}
        channels = apps.get_model("retention", "ContactAttempt")._meta.get_field("channel")
        self.direction, self.channel, self.outcome = {}, {}, {}
        # A historical model's labels are the English msgids: translated here as the desk did.
        for language in LANGUAGES:
            with translation.override(language):
                for value, label in fields["direction"].flatchoices:
                    self.direction[translation.gettext(str(label))] = value
                for value, label in channels.flatchoices:
                    self.channel[translation.gettext(str(label))] = value
                for value, label in fields["outcome"].flatchoices:
                    self.outcome[translation.gettext(str(label))] = value

    def contact(self, note):
        for direction, d in self.direction.items():
            if not note.startswith(direction + " "):
                continue
            rest = note[len(direction) + 1 :]
            for channel, c in self.channel.items():
                if not rest.startswith(channel + ": "):
                    continue
                rest = rest[len(channel) + 2 :]
                for outcome, o in self.outcome.items():
                    if rest == outcome:
                        return phrase("history.contact", direction=d, channel=c, outcome=o)
                    if rest.startswith(outcome + " — "):
                        said = rest[len(outcome) + 3 :]
                        return phrase(
                            "history.contact_note", direction=d, channel=c, outcome=o, note=said
                        )
        return None


def refusals():
    """The refusal sentences without a time in them, in every language."""
    found = {}
    for language in LANGUAGES:
        with translation.override(language):
            for code, text in (
                ("refusal.port_out_once", PORT_OUT_REFUSAL),
                ("refusal.do_not_contact", "The subscriber asked not to be contacted this way."),
                ("refusal.no_address", "There is no address on file for this channel."),
            ):
                found[translation.gettext(text)] = code
    return found


def history_phrase(entry, offers, reasons, labels, refused):
    note = entry.note
    action = entry.action
    if action == "reason":
        found = BINDS.match(note)
        if found:
            return phrase("history.port_out_binds", date=found.group(1))
        found = ARROW.match(note)
        if found and found["to"] in reasons:
            before = (
                phrase("history.no_reason") if found["from"] == "—" else reasons.get(found["from"])
            )
            if before is not None:
                return phrase(
                    "history.reason_changed", **{"from": before, "to": reasons[found["to"]]}
                )
        return None
    if action == "reassigned":
        found = REASSIGNED.match(note)
        if found:
            return phrase("history.reassigned", **found.groupdict())
        return None
    if action == "contact":
        return labels.contact(note)
    if action == "contact_refused":
        channel, _sep, why = note.partition(": ")
        if channel in ("phone", "email", "sms") and why in refused:
            return phrase("history.contact_refused", channel=channel, why=phrase(refused[why]))
        return None
    if action == "callback":
        found = CALLBACK.match(note)
        if found:
            # The wall-clock time it was written in: kept as it was, now in each reader's format.
            at = datetime.fromisoformat(f"{found.group(1)}T{found.group(2)}")
            return phrase("history.callback", at=at.isoformat())
        return None
    if action == "auto_cancelled":
        found = AUTO.match(note)
        return phrase("history.auto_cancelled", date=found.group(1)) if found else None
    if action in ("offer", "saved"):
        found = OFFER_NOTE.match(note)
        if found and found["status"] in OFFER_STATUSES:
            terms = offers.terms(int(found["id"]))
            if terms is not None:
                return phrase(
                    "history.offer",
                    id=int(found["id"]),
                    status=OFFER_STATUSES[found["status"]],
                    offer=terms,
                )
        found = OFFER_ACCEPTED.match(note)
        if found and found["name"] in offers.templates:
            return phrase("history.offer_accepted", offer=offers.templates[found["name"]])
    return None


def history_forwards(apps, offers, reasons):
    CaseHistory = apps.get_model("retention", "CaseHistory")
    labels, refused = Labels(apps), refusals()
    rows = (
        CaseHistory.objects.filter(code="")
        .exclude(note="")
        .only("id", "action", "note", "code", "params")
    )

    def prepare(chunk):
        ids = []
        for entry in chunk:
            found = OFFER_NOTE.match(entry.note)
            if found:
                ids.append(int(found["id"]))
        offers.load(ids)

    convert(
        CaseHistory,
        chunked(rows, prepare),
        lambda e: history_phrase(e, offers, reasons, labels, refused),
        ["code", "params", "note"],
        "note",
    )


# --- Offer history -------------------------------------------------------------------------------

ESCALATED = re.compile(
    r"^Waiting since (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}): (?P<from>.+) → (?P<to>.+)$"
)
FROM_OUTREACH = re.compile(r"^Accepted from the outreach campaign “(?P<campaign>.*)”$", re.S)


def within_authority():
    patterns = []
    for language in LANGUAGES:
        with translation.override(language):
            text = translation.gettext("Within the proposer's authority (%(tier)s).")
        patterns.append(
            re.compile("^" + re.escape(text).replace(r"%\(tier\)s", "(?P<tier>.+)") + "$")
        )
    return patterns


def offer_history_phrase(entry, within):
    note = entry.note
    if entry.action == "auto_approved":
        for pattern in within:
            found = pattern.match(note)
            if found:
                return phrase("offer.within_authority", tier=found["tier"])
        return None
    if entry.action == "escalated":
        found = ESCALATED.match(note)
        if found:
            since = f"{found.group(1)}T{found.group(2)}"
            return phrase(
                "offer.escalated", since=since, **{"from": found["from"], "to": found["to"]}
            )
        return None
    if entry.action in ("expired", "withdrawn") and note in END_NOTES:
        return phrase(END_NOTES[note])
    if entry.action == "proposed":
        found = FROM_OUTREACH.match(note)
        return phrase("offer.from_outreach", campaign=found["campaign"]) if found else None
    if entry.action == "presented" and note == "outreach link":
        return phrase("offer.outreach_link")
    if entry.action == "accepted" and note == "accepted online":
        return phrase("offer.accepted_online")
    return None


def offer_history_forwards(apps):
    OfferHistory = apps.get_model("offers", "OfferHistory")
    within = within_authority()
    rows = (
        OfferHistory.objects.filter(code="")
        .exclude(note="")
        .only("id", "action", "note", "code", "params")
    )
    convert(
        OfferHistory,
        chunked(rows, lambda chunk: None),
        lambda e: offer_history_phrase(e, within),
        ["code", "params", "note"],
        "note",
    )


# --- Notifications -------------------------------------------------------------------------------

NOTIFICATIONS = [
    ("notify.case_assigned", "Case #%(id)s was assigned to you: %(reason)s"),
    (
        "notify.case_deadline",
        "Case #%(id)s reached its deadline and was processed as a cancellation.",
    ),
    ("notify.offer_approved", "%(who)s approved offer #%(id)s for %(name)s: present it."),
    ("notify.offer_rejected", "%(who)s rejected offer #%(id)s for %(name)s: %(note)s"),
    (
        "notify.offer_escalated",
        "Offer #%(id)s for %(name)s has waited too long: it is yours to decide.",
    ),
    ("notify.offer_expired", "Offer #%(id)s for %(name)s expired."),
    ("notify.callback", "Call back %(name)s now (case #%(id)s)."),
    ("notify.sla_warning", "First contact with %(name)s is due at %(due)s (case #%(id)s)."),
    (
        "notify.sla_breached",
        "First contact with %(name)s is overdue since %(due)s (case #%(id)s).",
    ),
    ("notify.process_by", "Case #%(id)s (%(name)s) must be settled by %(date)s."),
    ("notify.approval_waiting", "Offer #%(id)s for %(name)s is waiting for your approval."),
    (
        "notify.discount_ending",
        "%(name)s's retention discount ends on %(date)s: review their terms.",
    ),
    ("notify.outreach_call", "%(name)s asked for a call about “%(campaign)s”."),
    (
        "notify.outreach_failed",
        "%(name)s accepted “%(campaign)s” but it could not be applied: %(why)s",
    ),
]
PLACEHOLDER = re.compile(r"%\\\((\w+)\\\)s")


def notification_patterns():
    """Each notice's sentence in every language as a pattern with its parameters as groups."""
    patterns = []
    for language in LANGUAGES:
        with translation.override(language):
            for code, text in NOTIFICATIONS:
                escaped = re.escape(translation.gettext(text))
                body = PLACEHOLDER.sub(lambda m: f"(?P<{m.group(1)}>.+?)", escaped)
                try:
                    patterns.append((code, re.compile(f"^{body}$", re.S)))
                except re.error:
                    continue  # a translation that repeats a parameter: matched in English
    return patterns


def notification_phrase(note, patterns):
    for code, pattern in patterns:
        found = pattern.match(note.text)
        if found:
            params = found.groupdict()
            if "id" in params:
                if not params["id"].isdigit():
                    continue
                params["id"] = int(params["id"])
            return phrase(code, **params)
    return None


def notifications_forwards(apps):
    Notification = apps.get_model("retention", "Notification")
    patterns = notification_patterns()
    rows = (
        Notification.objects.filter(code="").exclude(text="").only("id", "text", "code", "params")
    )
    convert(
        Notification,
        chunked(rows, lambda chunk: None),
        lambda n: notification_phrase(n, patterns),
        ["code", "params", "text"],
        "text",
    )


def contacts_forwards(apps):
    """The note the desk gave an inbound call that opened a case, in whichever language."""
    ContactAttempt = apps.get_model("retention", "ContactAttempt")
    texts = set()
    for language in LANGUAGES:
        with translation.override(language):
            texts.add(translation.gettext("Inbound call: the subscriber asked to cancel."))
    ContactAttempt.objects.filter(code="", note__in=texts).update(
        code="contact.inbound_cancel", note=""
    )


def forwards(apps, schema_editor):
    offers, reasons = Offers(apps), reason_names(apps)
    events_forwards(apps, offers, reasons)
    history_forwards(apps, offers, reasons)
    offer_history_forwards(apps)
    notifications_forwards(apps)
    contacts_forwards(apps)


def backwards(apps, schema_editor):
    """The phrases in English again, in the columns that held the sentences."""
    from subscribers.phrases import render

    for app, name, column in (
        ("subscribers", "TimelineEvent", "summary"),
        ("retention", "CaseHistory", "note"),
        ("offers", "OfferHistory", "note"),
        ("retention", "Notification", "text"),
        ("retention", "ContactAttempt", "note"),
    ):
        model = apps.get_model(app, name)
        changed = []
        for row in model.objects.exclude(code="").iterator(chunk_size=CHUNK):
            text = render(row.code, row.params, language="en")
            setattr(row, column, text[:300] if column in ("summary", "text") else text)
            row.code, row.params = "", {}
            changed.append(row)
        model.objects.bulk_update(changed, [column, "code", "params"], batch_size=CHUNK)


class Migration(migrations.Migration):
    dependencies = [
        ("retention", "0009_phrases_and_email_language"),
        ("offers", "0003_offer_history_phrases"),
        ("subscribers", "0006_plan_descriptions_and_risk_phrases"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
