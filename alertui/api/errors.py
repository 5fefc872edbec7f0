"""Every error as JSON with a `detail`; field errors as `{field: [messages]}`, like DRF's own."""

from django.core.exceptions import ValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from alertui.silences.services import SilenceActionError

STATUS_FOR_REASON = {
    "refused": status.HTTP_422_UNPROCESSABLE_ENTITY,  # Alertmanager refused the change
    "policy": status.HTTP_422_UNPROCESSABLE_ENTITY,  # the silence policy refused it
    "conflict": status.HTTP_409_CONFLICT,  # changed meanwhile, or already expired
    "busy": status.HTTP_409_CONFLICT,  # someone else is changing it right now
    "not_found": status.HTTP_404_NOT_FOUND,
    "unavailable": status.HTTP_503_SERVICE_UNAVAILABLE,
    "unknown_outcome": status.HTTP_504_GATEWAY_TIMEOUT,
    "out_of_scope": status.HTTP_403_FORBIDDEN,  # outside the person's scopes (detail names them)
}


def exception_handler(exc, context):
    if isinstance(exc, SilenceActionError):
        code = STATUS_FOR_REASON.get(exc.reason, status.HTTP_422_UNPROCESSABLE_ENTITY)
        return Response({"detail": exc.message, "reason": exc.reason}, status=code)
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
