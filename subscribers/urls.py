from django.urls import path

from subscribers import views

app_name = "subscribers"
urlpatterns = [
    path("", views.search, name="search"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/timeline/", views.timeline, name="timeline"),
    path("equipment/<int:pk>/returned/", views.equipment_returned, name="equipment_returned"),
]
