"""The HTML error pages of S3's website endpoint (it answers browsers, so errors are HTML, not XML).

Shaped like AWS's: a title with the status, then a list of Code, Message, the bucket or key, and
the request ids; when the bucket's custom error document cannot be read either, a second list
under "An Error Occurred While Attempting to Retrieve a Custom Error Document".
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from html import escape

REASONS = {
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
}


def request_ids() -> tuple[str, str]:
    """(x-amz-request-id, x-amz-id-2) in AWS's shapes: 16 hex digits, and a longer base64 id."""
    return secrets.token_hex(8).upper(), secrets.token_urlsafe(54)


@dataclass(frozen=True)
class WebsiteError:
    """One error as the website endpoint lists it."""

    status: int
    code: str
    message: str
    details: tuple[tuple[str, str], ...] = field(default=())

    def items(self, request_id: str, host_id: str) -> str:
        rows = [("Code", self.code), ("Message", self.message), *self.details]
        rows += [("RequestId", request_id), ("HostId", host_id)]
        return "".join(f"<li>{escape(name)}: {escape(value)}</li>\n" for name, value in rows)


def error_page(
    error: WebsiteError, request_id: str, host_id: str, document_error: WebsiteError | None = None
) -> bytes:
    """The page for ``error``; ``document_error`` is why the custom error document failed too."""
    title = f"{error.status} {REASONS.get(error.status, 'Error')}"
    parts = [
        f"<html>\n<head><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n<ul>\n",
        error.items(request_id, host_id),
        "</ul>\n",
    ]
    if document_error is not None:
        parts += [
            "<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>\n<ul>\n",
            document_error.items(request_id, host_id),
            "</ul>\n",
        ]
    parts.append("<hr/>\n</body>\n</html>\n")
    return "".join(parts).encode()


def no_such_bucket(bucket: str) -> WebsiteError:
    return WebsiteError(
        404, "NoSuchBucket", "The specified bucket does not exist", (("BucketName", bucket),)
    )


def no_website_configuration(bucket: str) -> WebsiteError:
    return WebsiteError(
        404,
        "NoSuchWebsiteConfiguration",
        "The specified bucket does not have a website configuration",
        (("BucketName", bucket),),
    )


def no_such_key(key: str) -> WebsiteError:
    return WebsiteError(404, "NoSuchKey", "The specified key does not exist.", (("Key", key),))


def access_denied() -> WebsiteError:
    return WebsiteError(403, "AccessDenied", "Access Denied")


def method_not_allowed(method: str) -> WebsiteError:
    return WebsiteError(
        405,
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
        (("Method", method), ("ResourceType", "OBJECT")),
    )


def cors_not_enabled() -> WebsiteError:
    return WebsiteError(
        403, "AccessForbidden", "CORSResponse: CORS is not enabled for this bucket."
    )
