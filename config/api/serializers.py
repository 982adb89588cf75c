"""Brief forms of the ledger's records, used inside other resources by every app's API."""

from rest_framework import serializers

from tracker.models import Inspection, Problem, Unit, User


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
