from django.contrib import admin

from subscribers.models import ApiToken, Equipment, Plan, Subscriber, TimelineEvent

admin.site.register([Plan, Equipment, TimelineEvent, ApiToken])
admin.site.register(Subscriber)
