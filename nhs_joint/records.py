"""What every kind of record the portal shows has in common, declared once."""

from .registry import registry


class PortalRecord:
    """A record with pages: its address comes from the page resource declared for its kind.

    Mixed into the models (before ``models.Model``), so no model writes its own ``get_absolute_url``.
    """

    def get_absolute_url(self):
        resource = registry.resource_for(self._meta.model_name)
        if resource is None:
            raise LookupError(f"No page resource is declared for {self._meta.verbose_name} records.")
        return resource.detail_url(getattr(self, resource.lookup))
