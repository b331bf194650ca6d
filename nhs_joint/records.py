"""What every kind of record the portal shows has in common, declared once."""

from django.contrib.contenttypes.models import ContentType

from .registry import registry


def record_key(record):
    """(content type, id): how a record is named by the rows that point at any kind of record (comments,
    attachments, watches, notifications)."""
    return ContentType.objects.get_for_model(record), record.pk


class PortalRecord:
    """A record with pages: its address comes from the page resource declared for its kind.

    Mixed into the models (before ``models.Model``), so no model writes its own ``get_absolute_url``.

    Who may edit it (nhs_joint.permissions.can_edit) is declared here too, once per model:
    - ``parent_field``: the record belongs to another (a programme's workstream): those who may edit that
      one edit it, and only they may add such records to it (the forms and the API ask the same rule);
    - or ``editing_bodies()``, written out where the bodies come from elsewhere (a Board's decision is its
      body's own, an appointment its sharing bodies');
    - or ``edit_decision(user)``, for a rule that is not about bodies (a region's delivery records);
    - neither: any member of staff (measures, people with no post).

    A record may also speak for bodies: ``speaking_bodies()`` ([(field, body)]: a workstream's owner, an
    expectation's issuing body) are written only by their own staff, as the record is and as it will be; and
    ``agreement_field`` names a list of bodies that agreed it, each recorded only by its own staff.
    """

    parent_field = None  # the name of the foreign key to the record this one belongs to

    def get_absolute_url(self):
        resource = registry.resource_for(self._meta.model_name)
        if resource is None:
            raise LookupError(f"No page resource is declared for {self._meta.verbose_name} records.")
        return resource.detail_url(getattr(self, resource.lookup))

    def editing_bodies(self):
        """The bodies whose staff may edit this record; None when any member of staff may."""
        if self.parent_field is None or getattr(self, f"{self.parent_field}_id") is None:
            return None
        return getattr(self, self.parent_field).editing_bodies()
