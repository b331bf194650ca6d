from django.urls import path

from nhs_joint.generic import register

from .views import RESOURCES, home, my_work

urlpatterns = [path("", home, name="home"), path("my-work/", my_work, name="my-work")]
urlpatterns += register(*RESOURCES)
