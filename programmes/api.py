"""What the programmes' records add to the API derived from their page resources (programmes/views.py).

Each class here is a rule or an action that only its kind of record has; everything else (fields, natural
keys, filters, permissions, archiving, history) comes from the resource's declaration through nhs_joint.api.
"""

from rest_framework import exceptions, serializers

from nhs_joint import permissions
from nhs_joint.api import ModelRulesSerializer, refuse_unless


class ProgrammeRules(ModelRulesSerializer):
    """A programme's slug is made from its title, and it is run by bodies its author works for."""

    def validate_bodies(self, bodies):
        if not bodies:
            raise serializers.ValidationError("A programme is run by at least one body.")
        message = permissions.bodies_error(self.context["request"].user, bodies)
        if message:
            raise exceptions.PermissionDenied(message)
        return bodies

    def prepare(self, instance, attrs):
        if not instance.pk and not instance.slug:
            from .forms import unique_slug

            instance.slug = unique_slug(attrs.get("title") or "")

    def create(self, validated_data):
        from .forms import unique_slug

        validated_data["slug"] = unique_slug(validated_data["title"])
        return super().create(validated_data)


class RegionalDeliveryRules(ModelRulesSerializer):
    """Only the Regional director of the record's region writes it, whichever region it is moved to."""

    def validate(self, attrs):
        region = attrs.get("region", getattr(self.instance, "region", None))
        if region is not None:
            refuse_unless(permissions.can_edit_delivery(self.context["request"].user, region.pk, region))
        return super().validate(attrs)
