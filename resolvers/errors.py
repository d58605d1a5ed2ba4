"""The domain errors: a small family with stable codes. Everything else is masked as INTERNAL."""

from __future__ import annotations


class DomainError(Exception):
    code = "INTERNAL"

    def __init__(self, message: str, *, field: str | None = None, **extra: object) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra

    @property
    def extensions(self) -> dict[str, object]:
        ext: dict[str, object] = {"code": self.code}
        if self.field is not None:
            ext["field"] = self.field
        ext.update(self.extra)
        return ext


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class IssuerUnavailable(Unauthenticated):
    """A token that cannot be checked now: its issuer's keys cannot be fetched (no key set yet, or the
    token's key is new and the last fetch failed). Not the caller's fault: HTTP 503, retry shortly."""

    code = "SERVICE_UNAVAILABLE"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Forbidden(DomainError):
    code = "FORBIDDEN"


class BadUserInput(DomainError):
    code = "BAD_USER_INPUT"


class NotFound(DomainError):
    code = "NOT_FOUND"


class CursorExpired(DomainError):
    """A change-feed cursor from before the events retention pruned: resuming from it would skip them."""

    code = "CURSOR_EXPIRED"


class Conflict(DomainError):
    code = "CONFLICT"


class ServiceUnavailable(DomainError):
    """The database cannot be reached right now (down, restarting, failing over): retry shortly."""

    code = "SERVICE_UNAVAILABLE"
