"""Events other systems send (billing, the network): a better line from their kind and data,
said in the reader's language instead of the sender's own summary."""

from collections.abc import Mapping
from typing import Any

from subscribers.phrases.catalogue import OUTAGE_CAUSES, Params
from subscribers.phrases.formatting import as_decimal, choice_labels

# Named by path, as every label of the phrases is: the phrases import no models.
PAYMENT_METHODS = "subscribers.Subscriber.payment_method"


def event_phrase(kind: str, data: Mapping[str, Any]) -> tuple[str, Params] | None:
    """The phrase for an event billing or the network sent, when its data says enough to tell
    it in the reader's language; None keeps the sender's own summary."""
    if not isinstance(data, Mapping):
        return None
    if kind == "payment" and as_decimal(data.get("amount")) is not None:
        if data.get("method") in choice_labels(PAYMENT_METHODS):
            code = "event.payment_site" if "site" in data else "event.payment_method"
            return code, dict(data)
        return "event.payment", dict(data)
    if kind == "missed_payment" and as_decimal(data.get("amount")) and data.get("period"):
        debit = data.get("method") == "direct_debit"  # Subscriber.PaymentMethod.DIRECT_DEBIT
        return ("event.debit_failed" if debit else "event.invoice_unpaid"), dict(data)
    if kind == "price_change" and as_decimal(data.get("from")) and as_decimal(data.get("to")):
        if "offer" in data:
            return None  # the desk's own, stored with its phrase
        reason = data.get("reason")
        if reason == "indexation" and data.get("percent") is not None:
            return "event.price_indexation", dict(data)
        if reason == "promo_ended":
            return "event.price_after_promo", dict(data)
        if reason == "retention":
            until = "_until" if data.get("until") else ""
            return f"event.price_retention{until}", dict(data)
        return "event.price_change", dict(data)
    if kind == "promo_ended" and as_decimal(data.get("promo_price")):
        return "event.promo_ended", {"price": data["promo_price"]}
    if kind == "signup" and data.get("plan_name"):
        if "sites" in data:
            return "event.contract_signed", dict(data)
        if as_decimal(data.get("price")) is not None:
            promo = data.get("promo")
            if promo is True:
                return "event.signup_promo", dict(data)
            if promo is False:
                return "event.signup_contract", dict(data)
            return "event.signup", dict(data)
    names = data.get("from_name") and data.get("to_name")
    if kind == "plan_change" and names and as_decimal(data.get("price")) is not None:
        return "event.plan_change", dict(data)
    if kind == "equipment_shipped" and data.get("items"):
        if "site" in data:
            return "event.shipped_spare", dict(data)
        return ("event.shipped_replacement" if "replaces" in data else "event.shipped"), dict(data)
    if kind == "equipment_returned" and data.get("item"):
        return "event.returned", dict(data)
    if kind == "cancellation_request" and data.get("effective"):
        return "event.asked_to_end", dict(data)
    if kind == "contact" and "site" in data and data.get("direction") == "outbound":
        return "event.account_manager_call", dict(data)
    if kind == "outage" and data.get("cause") in OUTAGE_CAUSES and "minutes" in data:
        params = {**data, "duration": data["minutes"]}
        if "site" in data:
            return "event.outage_site", params
        if data.get("incident"):
            return "event.outage_incident", params
        return "event.outage", params
    return None
