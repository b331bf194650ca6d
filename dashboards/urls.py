from django.urls import path

from .views import RESOURCES, home, my_work

urlpatterns = [path("", home, name="home"), path("my-work/", my_work, name="my-work")]
urlpatterns += [pattern for resource in RESOURCES for pattern in resource.urls()]
