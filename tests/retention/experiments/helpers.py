"""What the experiments' tests share."""

from retention.models import CancellationReason


def price_reason() -> CancellationReason:
    """The reason of the experiments' slot (price)."""
    return CancellationReason.objects.get_or_create(
        code="price", defaults={"category": "price", "name_en": "Price"}
    )[0]
