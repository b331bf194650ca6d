from nhs_joint.generic import register

from . import one_voice
from .views import RESOURCES

urlpatterns = one_voice.urlpatterns + register(*RESOURCES)
