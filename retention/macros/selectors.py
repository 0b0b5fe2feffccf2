"""The macros an agent may send from a case, the ones for the case's reason first."""

from django.db.models import Exists, OuterRef

from retention.models import CancellationCase, MessageTemplate


def macros_for_case(*, case: CancellationCase) -> list[MessageTemplate]:
    """Active templates, those offered for the case's reason first (``for_reason`` set). One
    query."""
    for_reason = MessageTemplate.reasons.through.objects.filter(
        messagetemplate_id=OuterRef("pk"), cancellationreason_id=case.reason_id or 0
    )
    rows = MessageTemplate.objects.filter(is_active=True).annotate(for_reason=Exists(for_reason))
    return sorted(rows, key=lambda t: (not t.for_reason, t.name.lower(), t.pk))  # type: ignore[attr-defined]


def macro_get(*, pk: int) -> MessageTemplate | None:
    return MessageTemplate.objects.filter(pk=pk, is_active=True).first()
