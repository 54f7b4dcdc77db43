"""What the website endpoint answers: read from moto's S3 state, decided as S3 decides it.

Nothing here is stored: every request reads the bucket's website configuration, Block Public
Access settings, bucket policy and objects as they are now in moto's S3 backend, so a change made
through the S3 API (a new policy, an upload) shows on the next page load, as on AWS.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from . import pages
from .access import Decision, PublicAccessBlock, anonymous_decision

READ_METHODS = ("GET", "HEAD")


@dataclass(frozen=True)
class WebsiteConfiguration:
    """The parts of PutBucketWebsite's document the mock serves."""

    index_suffix: str = ""
    error_key: str = ""
    redirect_host: str = ""
    redirect_protocol: str = ""
    routing_rules: bool = False

    @classmethod
    def parse(cls, document: bytes | str) -> WebsiteConfiguration:
        root = ElementTree.fromstring(document)

        def text(path: str) -> str:
            found = root.find(path)
            return (found.text or "").strip() if found is not None else ""

        for element in root.iter():  # drop the S3 namespace, so paths stay readable
            element.tag = element.tag.rsplit("}", 1)[-1]
        return cls(
            index_suffix=text("IndexDocument/Suffix"),
            error_key=text("ErrorDocument/Key"),
            redirect_host=text("RedirectAllRequestsTo/HostName"),
            redirect_protocol=text("RedirectAllRequestsTo/Protocol"),
            routing_rules=root.find("RoutingRules") is not None,
        )


@dataclass
class WebsiteAnswer:
    """Status, headers and body of one website response (the wire layer sends it)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def _bucket(name: str) -> Any | None:
    """moto's bucket called ``name``, in whichever account holds it, or None."""
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(name)
    if owner is None:
        return None
    partition, account_id = owner
    return s3_backends[account_id][partition].buckets.get(name)


def _public_access_block(bucket: Any) -> PublicAccessBlock:
    """The bucket's Block Public Access settings, or the account's where they are stricter."""
    from moto.s3control.models import s3control_backends

    restrict, ignore, sources = False, False, []
    bucket_block = bucket.public_access_block
    if bucket_block is not None:
        restrict |= bool(bucket_block.restrict_public_buckets)
        ignore |= bool(bucket_block.ignore_public_acls)
        if bucket_block.restrict_public_buckets:
            sources.append("the bucket's setting")
    account_block = s3control_backends[bucket.account_id][bucket.partition].public_access_block
    if account_block is not None:
        restrict |= bool(account_block.restrict_public_buckets)
        ignore |= bool(account_block.ignore_public_acls)
        if account_block.restrict_public_buckets:
            sources.append("the account's setting")
    return PublicAccessBlock(restrict, ignore, " and ".join(sources))


def _object(bucket: Any, key: str) -> Any | None:
    """The current version of ``key`` (None when missing or deleted)."""
    from moto.s3.models import FakeKey

    if not key or key not in bucket.keys:
        return None
    found = bucket.keys[key]
    return found if isinstance(found, FakeKey) else None


class Website:
    """One website request's view of one bucket."""

    def __init__(self, bucket: Any, configuration: WebsiteConfiguration) -> None:
        self.bucket = bucket
        self.configuration = configuration
        self.block = _public_access_block(bucket)
        self.request_id, self.host_id = pages.request_ids()

    def may(self, action: str, key: str | None = None) -> Decision:
        resource = f"arn:aws:s3:::{self.bucket.name}" + (f"/{key}" if key is not None else "")
        return anonymous_decision(self.bucket.policy, action, resource, self.block)

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {
            "x-amz-request-id": self.request_id,
            "x-amz-id-2": self.host_id,
            "Server": "AmazonS3",
            **(extra or {}),
        }

    def redirect(self, status: int, location: str) -> WebsiteAnswer:
        return WebsiteAnswer(status, self._headers({"Location": location}))

    def read(self, key: str) -> tuple[Any | None, pages.WebsiteError | None]:
        """The object, or the error an anonymous reader gets instead (403 hides absence)."""
        found = _object(self.bucket, key)
        if found is not None:
            if self.may("s3:GetObject", key).allowed:
                return found, None
            return None, pages.access_denied()
        if self.may("s3:ListBucket").allowed:
            return None, pages.no_such_key(key)
        return None, pages.access_denied()

    def serve_object(self, found: Any, status: int, if_none_match: str) -> WebsiteAnswer:
        if found.website_redirect_location:
            return self.redirect(301, found.website_redirect_location)
        headers = self._headers(
            {
                "Content-Type": found.metadata.get("Content-Type", "binary/octet-stream"),
                "ETag": found.etag,
                "Last-Modified": found.last_modified_RFC1123,
            }
        )
        for name, value in found.metadata.items():
            if name.lower().startswith(("cache-control", "content-encoding", "x-amz-meta-")):
                headers[name] = value
        if status == 200 and if_none_match and found.etag in if_none_match:
            return WebsiteAnswer(304, headers)
        return WebsiteAnswer(status, headers, found.value)

    def error(self, error: pages.WebsiteError) -> WebsiteAnswer:
        """``error``, or the bucket's error document with its status, as S3 does for 4xx."""
        document_error = None
        if self.configuration.error_key and error.status in (403, 404):
            document, document_error = self.read(self.configuration.error_key)
            if document is not None:
                return self.serve_object(document, error.status, "")
        body = pages.error_page(error, self.request_id, self.host_id, document_error)
        return WebsiteAnswer(
            error.status, self._headers({"Content-Type": "text/html; charset=utf-8"}), body
        )


def _plain_error(error: pages.WebsiteError) -> WebsiteAnswer:
    request_id, host_id = pages.request_ids()
    return WebsiteAnswer(
        error.status,
        {
            "Content-Type": "text/html; charset=utf-8",
            "x-amz-request-id": request_id,
            "x-amz-id-2": host_id,
            "Server": "AmazonS3",
        },
        pages.error_page(error, request_id, host_id),
    )


def answer(bucket_name: str, method: str, raw_path: str, if_none_match: str = "") -> WebsiteAnswer:
    """The website endpoint's answer for ``method raw_path`` on ``bucket_name``'s website."""
    if method == "OPTIONS":
        return _plain_error(pages.cors_not_enabled())
    if method not in READ_METHODS:
        return _plain_error(pages.method_not_allowed(method))
    bucket = _bucket(bucket_name)
    if bucket is None:
        return _plain_error(pages.no_such_bucket(bucket_name))
    if not bucket.website_configuration:
        return _plain_error(pages.no_website_configuration(bucket_name))
    configuration = WebsiteConfiguration.parse(bucket.website_configuration)
    site = Website(bucket, configuration)
    path = unquote(raw_path or "/")
    if configuration.redirect_host:
        protocol = configuration.redirect_protocol or "http"
        return site.redirect(301, f"{protocol}://{configuration.redirect_host}{path}")
    key = path.lstrip("/")
    if key == "" or key.endswith("/"):
        key += configuration.index_suffix
    found, error = site.read(key)
    if found is not None:
        return site.serve_object(found, 200, if_none_match)
    folder_index = f"{key}/{configuration.index_suffix}"
    folder_readable = (
        _object(bucket, folder_index) is not None and site.may("s3:GetObject", folder_index).allowed
    )
    if not path.endswith("/") and folder_readable:
        return site.redirect(302, f"{path}/")
    assert error is not None
    return site.error(error)
