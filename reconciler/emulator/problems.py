"""Service errors as RFC 7807 problem details (`application/problem+json`), the DPS error shape."""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.responses import Response

MEDIA_TYPE = "application/problem+json"

_TITLES: Mapping[int, str] = {
    400: "BadRequestError",
    404: "NotFoundError",
    405: "MethodNotAllowedError",
    409: "ConflictError",
    422: "UnprocessableEntityError",
    429: "TooManyRequestsError",
    500: "InternalServerError",
    502: "BadGatewayError",
    503: "ServiceUnavailableError",
}


class Problem(Exception):
    """A refusal the service answers with a problem document; `slug` names the kind of problem."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.headers = dict(headers or {})

    def body(self) -> dict[str, object]:
        return {
            "type": f"/problems/{self.slug}",
            "title": _TITLES.get(self.status, "Error"),
            "status": self.status,
            "detail": self.detail,
        }

    def response(self) -> Response:
        content = json.dumps(self.body(), ensure_ascii=False).encode("utf-8")
        return Response(content, self.status, headers=self.headers, media_type=MEDIA_TYPE)


def bad_request(detail: str) -> Problem:
    return Problem(400, "bad-request", detail)


def invalid(detail: str) -> Problem:
    """422: a well-formed body the service will not accept (schema, references, guardrails)."""
    return Problem(422, "invalid-content", detail)


def conflict(detail: str, slug: str = "conflict") -> Problem:
    return Problem(409, slug, detail)


def not_found(detail: str) -> Problem:
    return Problem(404, "not-found", detail)
