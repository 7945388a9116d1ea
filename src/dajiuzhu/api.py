"""The HTTP API (django-ninja) under /api/v1. Errors carry stable codes.

Every operation declares ``x-personal-data`` in its OpenAPI entry: ``none`` or the kind of
record it exposes or changes; tests/core/test_scoping.py proves each such operation refuses
users outside the record's scope.
"""

from __future__ import annotations

import importlib
import importlib.util

from django.db import DataError
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from dajiuzhu.core.access import AccessDenied, NotFound
from dajiuzhu.core.services import ServiceError
from dajiuzhu.exchange.sources import SourceError

# Each domain package contributes a router (a module that does not exist yet is skipped).
DOMAIN_APIS = [
    "dajiuzhu.core.api",
    "dajiuzhu.registry.api",
    "dajiuzhu.exchange.api",
    "dajiuzhu.policy.api",
    "dajiuzhu.verification.api",
    "dajiuzhu.warnings.api",
]

api = NinjaAPI(
    title="常州市智慧大救助管理服务平台 API",
    version="1.0.0",
    description=(
        "Changzhou smart social-assistance platform. Staff authenticate with their session "
        "(and CSRF token); departments with `Authorization: Bearer djz_…` tokens. Errors are "
        "`{code, message, field}` with stable codes; messages are in Chinese."
    ),
    urls_namespace="api",
)


@api.exception_handler(ServiceError)
def on_service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    return api.create_response(
        request, {"code": exc.code, "message": exc.message, "field": exc.field}, status=400
    )


@api.exception_handler(SourceError)
def on_source_error(request: HttpRequest, exc: SourceError) -> HttpResponse:
    return api.create_response(request, {"code": exc.code, "message": exc.message}, status=400)


@api.exception_handler(MultiPartParserError)
def on_bad_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    return api.create_response(
        request,
        {"code": "bad_request", "message": "请求体格式不正确(multipart 边界无效)"},
        status=400,
    )


@api.exception_handler(OverflowError)
def on_overflow(request: HttpRequest, exc: OverflowError) -> HttpResponse:
    # An id beyond any stored id (SQLite raises OverflowError for it): nothing has it.
    return api.create_response(
        request, {"code": "not_found", "message": NotFound.message}, status=404
    )


@api.exception_handler(DataError)
def on_data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
    # PostgreSQL's "integer out of range" for an id beyond any stored id: nothing has it.
    return api.create_response(
        request, {"code": "not_found", "message": NotFound.message}, status=404
    )


@api.exception_handler(NotFound)
def on_not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return api.create_response(request, {"code": exc.code, "message": exc.message}, status=404)


@api.exception_handler(AccessDenied)
def on_denied(request: HttpRequest, exc: AccessDenied) -> HttpResponse:
    return api.create_response(request, {"code": exc.code, "message": exc.message}, status=403)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, {"code": "unauthenticated", "message": "请先登录或提供有效的部门令牌"}, status=401
    )


@api.exception_handler(ValidationError)
def on_invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {
            "loc": [str(p) for p in e.get("loc", [])],
            "type": e.get("type", ""),
            "msg": e.get("msg", ""),
        }
        for e in exc.errors
    ]
    return api.create_response(
        request,
        {"code": "invalid_input", "message": "请求参数不正确,请检查后重试", "errors": errors},
        status=422,
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    codes = {
        400: "bad_request",
        401: "unauthenticated",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
        415: "unsupported_media_type",
    }
    return api.create_response(
        request,
        {"code": codes.get(exc.status_code, "error"), "message": str(exc.message)},
        status=exc.status_code,
    )


for _module in DOMAIN_APIS:
    if importlib.util.find_spec(_module):
        api.add_router("/", importlib.import_module(_module).router)
