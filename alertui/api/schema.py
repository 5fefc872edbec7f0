"""Tells drf-spectacular how API tokens are sent, so the schema (and schemathesis) know."""

import drf_spectacular.openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "alertui.api.auth.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Token"
        )


class AutoSchema(drf_spectacular.openapi.AutoSchema):
    """Documents the errors every operation can answer with, beside its own responses."""

    def _get_response_bodies(self, direction="response"):
        bodies = super()._get_response_bodies(direction)
        error = {"$ref": "#/components/schemas/Error"}
        # Field errors: {"field": ["message", ...]}, or {"detail": "..."} for the whole request.
        invalid = {"type": "object", "additionalProperties": True}
        common = {
            "400": ("The request is not valid; the body names each wrong field.", invalid),
            "401": ("Not signed in, or an unknown, expired or revoked token.", error),
            "403": ("Signed in, but not allowed (only silencers change silences).", error),
            "429": ("Too many requests; wait and retry.", error),
        }
        if self._is_list_view() and self._get_paginator():
            common["404"] = ("No such page (`page` past the last one).", error)
        elif "{" in self.path:
            common["404"] = ("No such silence.", error)
        for code, (text, schema) in common.items():
            if code not in bodies:
                bodies[code] = {
                    "description": text,
                    "content": {"application/json": {"schema": schema}},
                }
        return bodies
