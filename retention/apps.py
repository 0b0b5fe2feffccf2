from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

# Django 6.1's own messages that its Latvian and Russian catalogues do not have yet. Named here
# so that `make messages` keeps them in the desk's catalogue (locale/), which Django reads
# before its own: a msgid is translated from there wherever Django says it. The admin's
# JavaScript ones are in retention.admin_site.
MISSING_FROM_DJANGO = (
    # Translators: the empty first choice of a drop-down list, e.g. "Reassign to" in the
    # queue's bulk actions and every choice in the admin; Django 6.1's wording.
    gettext_noop("- Select an option -"),
)


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = _("Retention desk")
