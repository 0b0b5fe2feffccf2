"""A user's preferences."""

from django import forms

from retention.models import (
    User,
)


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["time_zone", "email_notifications", "language"]
