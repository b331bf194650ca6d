from . import one_voice
from .views import RESOURCES

urlpatterns = one_voice.urlpatterns + [pattern for resource in RESOURCES for pattern in resource.urls()]
