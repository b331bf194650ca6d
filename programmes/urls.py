from nhs_joint.generic import register

from .views import RESOURCES

urlpatterns = register(*RESOURCES)
