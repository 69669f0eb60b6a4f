"""Errors of the sharing server, each carrying the HTTP status and the Delta Sharing `errorCode`
it maps to, so the protocol's JSON error body is derived from the error, never chosen per route."""

from __future__ import annotations

from smartmon.errors import SmartmonError


class SharingError(SmartmonError):
    """Base of sharing errors; a bare one is a server fault (500)."""

    status = 500
    error_code = "INTERNAL_ERROR"


class InvalidRequest(SharingError):
    """The request or a CLI argument is malformed; the message names the field."""

    status = 400
    error_code = "INVALID_PARAMETER_VALUE"


class Unauthenticated(SharingError):
    """Missing, unknown, revoked or expired bearer token."""

    status = 401
    error_code = "UNAUTHENTICATED"


class PermissionDenied(SharingError):
    """The recipient is known but may not read this share, table or file."""

    status = 403
    error_code = "PERMISSION_DENIED"


class NotFound(SharingError):
    """No such share, schema, table or recipient (or the table is not built yet)."""

    status = 404
    error_code = "RESOURCE_DOES_NOT_EXIST"
