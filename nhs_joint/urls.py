from django.contrib import admin
from django.urls import path

from . import views

admin.site.site_header = "NHS Joint Working Portal administration"
admin.site.site_title = "NHS Joint Working Portal"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
