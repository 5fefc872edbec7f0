"""POST /api/v1/silences/bulk/: the silence list's bulk expire and extend for scripts, with the
same per-silence results (one audit row each, credited to the token's person)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from alertui.api.permissions import CanChangeSilences
from alertui.api.views import _actor
from alertui.durations import DurationError
from alertui.silences.bulk import actions


class BulkSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=actions.ACTIONS)
    silences = serializers.ListField(
        child=serializers.CharField(max_length=64),
        min_length=1,
        max_length=actions.MAX_SILENCES,
        help_text=f"Silence ids, at most {actions.MAX_SILENCES}.",
    )
    by = serializers.CharField(
        required=False, max_length=40, help_text="For extend: how much later each ends (2h)."
    )

    def validate(self, data):
        if data["action"] == "extend":
            try:
                actions.duration(data.get("by", ""))
            except DurationError as e:
                raise serializers.ValidationError({"by": [str(e)]}) from None
        return data


class OutcomeSerializer(serializers.Serializer):
    silence_id = serializers.CharField()
    ok = serializers.BooleanField()
    message = serializers.CharField()
    new_id = serializers.CharField(help_text="The id Alertmanager gave it, if it changed.")
    until = serializers.CharField(help_text="For extend: the new end (ISO 8601).")


class BulkResultsSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    failed = serializers.IntegerField()
    results = OutcomeSerializer(many=True)


@extend_schema(
    request=BulkSerializer,
    responses={200: BulkResultsSerializer, 207: BulkResultsSerializer},
    summary="Expire or extend several silences",
    description="Each silence is changed in turn, with its own audit row; one that fails does "
    "not stop the others. 200 when all were done, 207 when some failed (see `results`).",
)
@api_view(["POST"])
@permission_classes([IsAuthenticated, CanChangeSilences])
def silence_bulk(request):
    data = BulkSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    ids = tuple(dict.fromkeys(data.validated_data["silences"]))
    asked = actions.Request(data.validated_data["action"], ids, data.validated_data.get("by", ""))
    outcomes = actions.run(_actor(request), asked)
    failed = sum(1 for o in outcomes if not o.ok)
    body = {
        "done": len(outcomes) - failed,
        "failed": failed,
        "results": [o.as_dict() for o in outcomes],
    }
    code = status.HTTP_207_MULTI_STATUS if failed else status.HTTP_200_OK
    return Response(BulkResultsSerializer(body).data, status=code)
