"""Application errors: one hierarchy, rendered as problem+json for the API and a page otherwise."""

from __future__ import annotations

from typing import Any

from app.i18n import N_


class AppError(Exception):
    """An expected failure with an HTTP status and a stable snake_case code."""

    status = 400
    code = "bad_request"
    title = N_("Bad request")
    keep_writes = False

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.title
        if code:
            self.code = code
        self.extra = extra or {}
        self.headers = headers or {}
        super().__init__(self.message)


class NotFound(AppError):
    status = 404
    code = "not_found"
    title = N_("Not found")


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    title = N_("Forbidden")


class Unauthorized(AppError):
    status = 401
    code = "not_authenticated"
    title = N_("Not signed in")


class Conflict(AppError):
    status = 409
    code = "conflict"
    title = N_("Conflict")


class Invalid(AppError):
    """Input that parsed but breaks a rule; `errors` lists where and why (422)."""

    status = 422
    code = "validation_error"
    title = N_("Invalid input")

    def __init__(self, message: str | None = None, *, errors: list[dict[str, Any]] | None = None,
                 code: str | None = None) -> None:
        super().__init__(message, code=code, extra={"errors": errors or []})

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.extra["errors"])


class TooManyRequests(AppError):
    status = 429
    code = "too_many_requests"
    title = N_("Too many attempts")

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)},
                         extra={"retry_after": retry_after})
        self.retry_after = retry_after


class LoginFailed(Unauthorized):
    """Bad credentials: the failure count written during the attempt must be kept."""

    code = "invalid_credentials"
    title = N_("Wrong username or password")
    keep_writes = True


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    title = N_("The form expired or did not come from this site")
