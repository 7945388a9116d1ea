"""The errors a user (or a department's system) can cause, in one hierarchy.

Each carries an HTTP status, a stable code for the API and a Chinese message for pages. The API
answers every :class:`UserError` with ``{"code", "message", "field"}`` and its status; pages
render it (``core.middleware.AccessErrorsMiddleware``) when a view does not handle it itself.
No Django here: the policy library and the file readers raise these too.
"""

from __future__ import annotations


class UserError(Exception):
    status = 400
    code = "error"
    message = "请求无法完成"
    field: str | None = None

    def as_body(self) -> dict[str, str | None]:
        body: dict[str, str | None] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


class ServiceError(UserError):
    """A request the rules refuse: a stable code for the API, a Chinese message for pages."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def as_body(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}


class AccessDenied(UserError):
    """The role may not perform this action at all (HTTP 403)."""

    status = 403
    code = "forbidden"
    message = "您的角色无权进行此操作"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message


class NotFound(UserError):
    """No such record in the user's scope (HTTP 404) — never "it exists elsewhere"."""

    status = 404
    code = "not_found"
    message = "未找到该记录,或该记录不在您的管辖范围内"
