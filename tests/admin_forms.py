"""What an admin change page would post back unchanged: its form and its inlines, as shown."""

from typing import Any


def _shown(value: Any) -> Any:
    if value is None or value is False:
        return ""
    if value is True:
        return "on"
    return value


def posted_back(response: Any) -> dict[str, Any]:
    """The data a browser would send if the administrator pressed Save without a change."""
    data: dict[str, Any] = {}
    for bound in response.context["adminform"].form:
        data[bound.html_name] = _shown(bound.value())
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for bound in formset.management_form:
            data[bound.html_name] = _shown(bound.value())
        for form in formset.forms:
            for bound in form:
                data[bound.html_name] = _shown(bound.value())
    return data
