"""The mock account's S3 website endpoint: it serves what AWS would serve to an anonymous visitor.

Requests go to 127.0.0.1 with the website host in the Host header (Python does not resolve
``*.localhost``; Chromium does, see test_page_in_browser.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import requests

from helpers.mock.s3website import WEBSITE_HOST

INDEX = b"<!doctype html><h1>hello</h1>"


def _policy(bucket: str, *statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _public_read(bucket: str, action: str = "s3:GetObject", resource: str = "/*") -> dict:
    return {
        "Effect": "Allow",
        "Principal": "*",
        "Action": action,
        "Resource": f"arn:aws:s3:::{bucket}{resource}",
    }


@pytest.fixture
def visit(mock_account) -> Callable[..., requests.Response]:
    """visit(bucket, path, method="GET", **headers): the website endpoint's answer."""
    port = mock_account.endpoint_url.rsplit(":", 1)[1]

    def get(bucket: str, path: str = "/", method: str = "GET", **headers: str):
        host = f"{bucket}.s3-website-us-east-1.localhost:{port}"
        return requests.request(
            method,
            f"http://127.0.0.1:{port}{path}",
            headers={"Host": host, **headers},
            allow_redirects=False,
            timeout=10,
        )

    return get


@pytest.fixture
def site(mock_session, mock_name) -> Callable[..., str]:
    """site(public=True, listable=False): a bucket with index.html and a website configuration."""
    s3 = mock_session.client("s3")

    def make(public: bool = True, listable: bool = False, error_document: str = "") -> str:
        bucket = mock_name("site")
        s3.create_bucket(Bucket=bucket)
        configuration = {"IndexDocument": {"Suffix": "index.html"}}
        if error_document:
            configuration["ErrorDocument"] = {"Key": error_document}
        s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=configuration)
        s3.put_object(Bucket=bucket, Key="index.html", Body=INDEX, ContentType="text/html")
        statements = []
        if public:
            statements.append(_public_read(bucket))
        if listable:
            statements.append(_public_read(bucket, "s3:ListBucket", ""))
        if statements:
            s3.put_bucket_policy(Bucket=bucket, Policy=_policy(bucket, *statements))
        return bucket

    return make


def test_public_index_is_served_with_its_content_type(site, visit):
    bucket = site()
    answer = visit(bucket, "/")
    assert answer.status_code == 200
    assert answer.content == INDEX
    assert answer.headers["Content-Type"] == "text/html"
    assert answer.headers["ETag"].strip('"')
    same = visit(bucket, "/index.html")
    assert same.content == INDEX and same.headers["ETag"] == answer.headers["ETag"]


def test_private_object_is_403_access_denied(site, visit):
    answer = visit(site(public=False), "/")
    assert answer.status_code == 403
    assert "<li>Code: AccessDenied</li>" in answer.text
    assert INDEX.decode() not in answer.text


def test_block_public_access_overrides_a_public_policy(site, visit, mock_session):
    bucket = site()
    assert visit(bucket, "/").status_code == 200
    mock_session.client("s3").put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    assert visit(bucket, "/").status_code == 403
    mock_session.client("s3").delete_public_access_block(Bucket=bucket)
    assert visit(bucket, "/").status_code == 200


def test_missing_key_is_403_unless_everyone_may_list(site, visit):
    hidden = visit(site(), "/nothing-here.html")
    assert hidden.status_code == 403
    assert "AccessDenied" in hidden.text
    listed = visit(site(listable=True), "/nothing-here.html")
    assert listed.status_code == 404
    assert "<li>Code: NoSuchKey</li>" in listed.text
    assert "<li>Key: nothing-here.html</li>" in listed.text


def test_deny_wins_and_conditional_allow_grants_nothing(site, visit, mock_session):
    s3 = mock_session.client("s3")
    bucket = site(public=False)
    deny = {**_public_read(bucket), "Effect": "Deny", "Resource": f"arn:aws:s3:::{bucket}/index*"}
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(bucket, _public_read(bucket), deny))
    assert visit(bucket, "/").status_code == 403
    conditional = {
        **_public_read(bucket),
        "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.1/32"}},
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(bucket, conditional))
    assert visit(bucket, "/").status_code == 403
    other_principal = {**_public_read(bucket), "Principal": {"AWS": "arn:aws:iam::123:root"}}
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(bucket, other_principal))
    assert visit(bucket, "/").status_code == 403


def test_policy_changes_show_on_the_next_request(site, visit, mock_session):
    bucket = site()
    assert visit(bucket, "/").status_code == 200
    mock_session.client("s3").delete_bucket_policy(Bucket=bucket)
    assert visit(bucket, "/").status_code == 403


def test_folder_index_and_redirect(site, visit, mock_session):
    bucket = site()
    mock_session.client("s3").put_object(
        Bucket=bucket, Key="docs/index.html", Body=b"docs", ContentType="text/html"
    )
    moved = visit(bucket, "/docs")
    assert moved.status_code == 302
    assert moved.headers["Location"] == "/docs/"
    assert visit(bucket, "/docs/").content == b"docs"


def test_error_document_is_served_with_the_error_status(site, visit, mock_session):
    bucket = site(listable=True, error_document="error.html")
    broken = visit(bucket, "/missing")
    assert broken.status_code == 404
    assert "An Error Occurred While Attempting to Retrieve a Custom Error Document" in broken.text
    mock_session.client("s3").put_object(
        Bucket=bucket, Key="error.html", Body=b"<p>sorry</p>", ContentType="text/html"
    )
    served = visit(bucket, "/missing")
    assert served.status_code == 404
    assert served.content == b"<p>sorry</p>"


def test_no_bucket_and_no_website_configuration(visit, mock_session, mock_name):
    missing = visit(mock_name("absent"), "/")
    assert missing.status_code == 404
    assert "<li>Code: NoSuchBucket</li>" in missing.text
    plain = mock_name("plain")
    mock_session.client("s3").create_bucket(Bucket=plain)
    unconfigured = visit(plain, "/")
    assert unconfigured.status_code == 404
    assert "<li>Code: NoSuchWebsiteConfiguration</li>" in unconfigured.text


def test_only_reads_head_and_conditional_get(site, visit):
    bucket = site()
    assert visit(bucket, "/", "PUT").status_code == 405
    assert visit(bucket, "/", "DELETE").status_code == 405
    assert visit(bucket, "/", "OPTIONS").status_code == 403  # no bucket CORS on the website
    head = visit(bucket, "/", "HEAD")
    assert head.status_code == 200 and head.content == b""
    etag = head.headers["ETag"]
    assert visit(bucket, "/", **{"If-None-Match": etag}).status_code == 304


def test_website_host_reaches_no_other_service(site, visit, mock_account):
    """An anonymous website request cannot list the bucket or call the S3 API by query."""
    bucket = site()
    listing = visit(bucket, "/?list-type=2")
    assert listing.content == INDEX  # the index document, never a listing
    assert visit(bucket, "/?policy").content == INDEX  # not GetBucketPolicy
    # the API itself still needs a signature: the same path without the website host
    unsigned = requests.get(f"{mock_account.endpoint_url}/{bucket}", timeout=10)
    assert unsigned.status_code == 403


@pytest.mark.parametrize(
    ("host", "bucket"),
    [
        ("site.s3-website-us-east-1.localhost:4566", "site"),
        ("my.site.s3-website.eu-central-1.localhost", "my.site"),
        ("Site.S3-Website-us-east-1.LOCALHOST:80", None),  # the wire lowers it first
        ("site.s3-website-us-east-1.amazonaws.com", None),
        ("site.localhost:4566", None),
        ("127.0.0.1:4566", None),
    ],
)
def test_website_host_forms(host, bucket):
    found = WEBSITE_HOST.match(host)
    assert (found.group("bucket") if found else None) == bucket


def test_a_failure_inside_is_a_500_page_and_the_endpoint_keeps_serving(site, visit, monkeypatch):
    from helpers.mock.s3website import wire

    bucket = site()

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(wire, "answer", broken)
    failed = visit(bucket, "/")
    assert failed.status_code == 500
    assert "<li>Code: InternalError</li>" in failed.text and "boom" not in failed.text
    monkeypatch.undo()
    assert visit(bucket, "/").status_code == 200


def test_account_level_block_public_access_wins_over_the_bucket(site, visit, mock_account):
    """Set in moto's S3 Control backend directly: boto3 sends S3 Control calls to
    ``{account}.{endpoint}``, a host that cannot point at the mock's 127.0.0.1."""
    from moto.s3.models import PublicAccessBlock
    from moto.s3control.models import s3control_backends

    bucket = site()
    control = s3control_backends[mock_account.account_id]["aws"]
    control.public_access_block = PublicAccessBlock(False, False, False, True)
    try:
        assert visit(bucket, "/").status_code == 403
    finally:
        control.public_access_block = None
    assert visit(bucket, "/").status_code == 200
