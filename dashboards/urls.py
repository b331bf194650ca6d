from django.urls import path

from .views import RESOURCES, home

urlpatterns = [path("", home, name="home")]
urlpatterns += [pattern for resource in RESOURCES for pattern in resource.urls()]
