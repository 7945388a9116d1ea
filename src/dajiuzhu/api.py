"""The HTTP API (django-ninja) under /api/v1. Errors carry stable codes.

Every operation declares ``x-personal-data`` in its OpenAPI entry: ``none`` or the kind of
record it exposes or changes; tests/core/test_scoping.py proves each such operation refuses
users outside the record's scope.
"""

from __future__ import annotations

import importlib

from django.db import DataError
from django.http import HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from dajiuzhu.core.errors import NotFound, UserError
from dajiuzhu.core.schemas import ErrorOut, ValidationErrorOut
from dajiuzhu.web.requests import ApiRequest

# Each domain package contributes a router (a module that does not exist yet is skipped).
DOMAIN_APIS = [
    "dajiuzhu.core.api",
    "dajiuzhu.registry.api",
    "dajiuzhu.exchange.api",
    "dajiuzhu.policy.api",
    "dajiuzhu.verification.api",
    "dajiuzhu.warnings.api",
    "dajiuzhu.cases.api",
    "dajiuzhu.supervision.api",
    "dajiuzhu.care.api",
    "dajiuzhu.payments.api",
    "dajiuzhu.reviews.api",
]

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
COMMON_RESPONSES = {
    # Any URL: a query value shaped like an ID number is refused (core.middleware).
    400: "请求有误(如网址中含有身份证号码)",
    401: "未登录或部门令牌无效",
    403: "角色无权操作,或缺少 CSRF 令牌",
    404: "记录不存在或不在管辖范围内",
    422: "请求参数不符合接口定义",
}


class PlatformAPI(NinjaAPI):
    """The API with the error answers every operation can give written into its OpenAPI
    document, so that clients (and schemathesis' conformance checks) know them: 400 for any
    operation (core.middleware refuses ID numbers in any URL), 401 and 403 where credentials
    are needed, 404 where a path names a record, 422 where there is input to validate."""

    def get_openapi_schema(self, **kwargs):
        schema = super().get_openapi_schema(**kwargs)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (ErrorOut, ValidationErrorOut):
            components.setdefault(model.__name__, model.model_json_schema())
        for path, methods in schema["paths"].items():
            for op in methods.values():
                wanted = [400]
                if op.get("security"):
                    wanted += [401, 403]
                if "{" in path:
                    wanted.append(404)
                if op.get("parameters") or op.get("requestBody"):
                    wanted.append(422)
                responses = op.setdefault("responses", {})
                for status in wanted:
                    if status in responses:
                        continue
                    ref = (
                        ERROR_REF
                        if status != 422
                        else {"$ref": "#/components/schemas/ValidationErrorOut"}
                    )
                    responses[status] = {
                        "description": COMMON_RESPONSES[status],
                        "content": {"application/json": {"schema": ref}},
                    }
        from dajiuzhu.api_docs import document

        return document(schema)


api = PlatformAPI(
    title="常州市智慧大救助管理服务平台 API",
    version="1.0.0",
    description=(
        "Changzhou smart social-assistance platform. Staff authenticate with their session "
        "(and CSRF token); departments with `Authorization: Bearer djz_…` tokens. Errors are "
        "`{code, message, field}` with stable codes; messages are in Chinese."
    ),
    urls_namespace="api",
)


@api.exception_handler(UserError)
def on_user_error(request: ApiRequest, exc: UserError) -> HttpResponse:
    """Every error a caller can cause (core.errors): its status, code, message and field."""
    return api.create_response(request, exc.as_body(), status=exc.status)


@api.exception_handler(MultiPartParserError)
def on_bad_multipart(request: ApiRequest, exc: MultiPartParserError) -> HttpResponse:
    return api.create_response(
        request,
        {"code": "bad_request", "message": "请求体格式不正确(multipart 边界无效)"},
        status=400,
    )


@api.exception_handler(OverflowError)
def on_overflow(request: ApiRequest, exc: OverflowError) -> HttpResponse:
    # An id beyond any stored id (SQLite raises OverflowError for it): nothing has it.
    return api.create_response(
        request, {"code": "not_found", "message": NotFound.message}, status=404
    )


@api.exception_handler(DataError)
def on_data_error(request: ApiRequest, exc: DataError) -> HttpResponse:
    if "NUL" in str(exc):
        # PostgreSQL refuses a NUL character in any text value (a body field carrying one).
        return api.create_response(
            request,
            {"code": "bad_request", "message": "请求中含有不允许的控制字符(NUL),请检查后重试"},
            status=400,
        )
    # PostgreSQL's "integer out of range" for an id beyond any stored id: nothing has it.
    return api.create_response(
        request, {"code": "not_found", "message": NotFound.message}, status=404
    )


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: ApiRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, {"code": "unauthenticated", "message": "请先登录或提供有效的部门令牌"}, status=401
    )


@api.exception_handler(ValidationError)
def on_invalid(request: ApiRequest, exc: ValidationError) -> HttpResponse:
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
def on_http_error(request: ApiRequest, exc: HttpError) -> HttpResponse:
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
    api.add_router("/", importlib.import_module(_module).router)
