"""Helpers every room's views use with their forms."""

from typing import Any

from django import forms


def form_errors(form: forms.Form) -> str:
    return "; ".join(str(e) for errors in form.errors.values() for e in errors)


def filter_fields(form: forms.Form, names: tuple[str, ...] = ()) -> list[tuple[Any, list]]:
    """Each field with its choices read once. Iterated, not list()-ed: list() would ask a model
    choice iterator for its length first, which costs a COUNT query per field."""
    return [
        (form[name], [choice for choice in getattr(field, "choices", ())])
        for name, field in form.fields.items()
        if not names or name in names
    ]


class DateInput(forms.DateInput):
    input_type = "date"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)
