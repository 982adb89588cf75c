"""API serializers shared by every app: the brief forms of the ledger's records, used inside
other resources, and the base of every write (input) serializer."""

from collections.abc import Mapping

from rest_framework import serializers

from tracker.models import Inspection, Problem, Unit, User

# Sent by Django's HTML forms and the browsable API along with the data; not part of it.
TRANSPORT_FIELDS = frozenset({"csrfmiddlewaretoken"})


class RefuseUnknownFieldsMixin:
    """Every write names the fields it accepts; a body with any other name is refused (400)
    rather than silently ignored, so a misspelt field ("deadine") or one the client wrongly
    thinks it may set ("status") never looks like a successful write.

    The error names them all: detail "未知字段：foo, bar", and each under `fields`. Read-only
    fields of a model serializer count as known (a client may send back what it read).
    """

    unknown_field_hint = "未知字段，不会被保存"

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(
                str(key) for key in data if key not in self.fields and key not in TRANSPORT_FIELDS
            )
            if unknown:
                errors = {"non_field_errors": [f"未知字段：{', '.join(unknown)}"]}
                errors.update({name: [self.unknown_field_hint] for name in unknown})
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class InputSerializer(RefuseUnknownFieldsMixin, serializers.Serializer):
    """The base of a write's input that is not a model serializer."""


class UnitBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "name", "short_name"]


class UserBriefSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "display_name"]


class InspectionBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Inspection
        fields = ["id", "title", "kind", "team"]


class ProblemBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Problem
        fields = ["id", "number", "aspect", "text"]
