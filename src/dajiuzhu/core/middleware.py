"""Request-level safeguards that no single view should have to remember.

* ``IdNumberInUrlMiddleware`` — ID numbers never travel in URLs (docs/architecture.md): a
  request whose query string holds a value shaped like an ID number (14 or more digits in a
  row: the 15- and 18-character numbers and long partial ones) is refused with 400 and a
  message pointing to the POST look-ups, on pages and in the API, before any view runs. A
  query string holding a NUL character is refused the same way (400, ``query.control_character``):
  no field stores one, and PostgreSQL refuses it in any text comparison.
* ``AccessErrorsMiddleware`` — a page view that lets ``NotFound`` or ``AccessDenied`` escape
  answers the Chinese 404/403 page instead of a 500.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from dajiuzhu.core.errors import AccessDenied, NotFound, UserError
from dajiuzhu.core.idnumber import looks_like_id_number

API_PREFIX = "/api/"
ID_IN_URL_CODE = "query.id_number"
ID_IN_URL_MESSAGE = (
    "网址中不能含有身份证号码。按身份证号码查找请用页面上的查询框提交,"
    "或调用 POST /api/v1/persons/lookup(号码放在请求体中)"
)
# Query parameters whose values are codes or pseudonyms, never a person's ID number: division
# codes (up to 15 digits, like an old ID number) and the lake's person_key. Each is validated
# as such by the endpoint that takes it, and none finds a person by ID number.
NUMERIC_CODE_PARAMETERS = frozenset({"parent", "community", "division", "person"})
CONTROL_IN_URL_CODE = "query.control_character"
CONTROL_IN_URL_MESSAGE = "网址的查询参数中含有不允许的控制字符(NUL),请检查后重试"


def id_number_in_query(request: HttpRequest) -> bool:
    for name, values in request.GET.lists():
        if name in NUMERIC_CODE_PARAMETERS:
            continue
        if looks_like_id_number(name) or any(looks_like_id_number(v) for v in values):
            return True
    return False


def nul_in_query(request: HttpRequest) -> bool:
    return any(
        "\x00" in name or any("\x00" in v for v in values) for name, values in request.GET.lists()
    )


def _refuse(request: HttpRequest, code: str, title: str, message: str) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"code": code, "message": message, "field": "q"}, status=400)
    return render(request, "web/error.html", {"title": title, "message": message}, status=400)


class IdNumberInUrlMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.GET:
            if nul_in_query(request):
                return _refuse(request, CONTROL_IN_URL_CODE, "网址有误", CONTROL_IN_URL_MESSAGE)
            if id_number_in_query(request):
                return _refuse(
                    request, ID_IN_URL_CODE, "请勿在网址中填写身份证号码", ID_IN_URL_MESSAGE
                )
        return self.get_response(request)


class AccessErrorsMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, NotFound):
            return render(
                request,
                "web/error.html",
                {"title": "未找到", "message": "您要查看的内容不存在,或不在您的管辖范围内。"},
                status=404,
            )
        if isinstance(exception, AccessDenied):
            return render(
                request,
                "web/error.html",
                {"title": "无权访问", "message": exception.message},
                status=403,
            )
        if isinstance(exception, UserError):  # a page that did not handle its own refusal
            return render(
                request,
                "web/error.html",
                {"title": "无法完成", "message": exception.message},
                status=exception.status,
            )
        return None
