"""The web page on S3 website hosting: the site bucket, made public the way S3 requires, and its URL.

The page (``web/index.html``) is static: one HTML file with its script inline, plus a
``config.js`` written at upload time with the API's URL and key. S3 website hosting serves it
over plain HTTP from ``http://{bucket}.s3-website-{region}.amazonaws.com`` (some regions write
``s3-website.{region}``). The website endpoint takes no credentials: every visitor is anonymous,
so it serves only objects that are public. That takes two steps, in this order, both on this
bucket only: turn Block Public Access off for the bucket (since April 2023 new buckets have it on,
and with ``BlockPublicPolicy`` on S3 refuses a public policy), then a bucket policy allowing
``s3:GetObject`` on the bucket's objects to ``"Principal": "*"``. Nothing else in the account
becomes public; the account-level Block Public Access, if set, still wins (checked and reported).

The API key ends up in ``config.js``, readable by anyone who loads the page, as in 2017: an API
key identifies a caller for a usage plan (throttling, quota); it is not a secret and not
authorization (API Gateway's documentation says so).

In mock mode the site is at ``http://{bucket}.s3-website-{region}.localhost:{port}`` on the mock
account's port (see ``helpers.mock.s3website`` for why a host name, not a port). Chromium
resolves ``*.localhost`` itself; Python does not, so :func:`fetch` connects to 127.0.0.1 and
names the host in the ``Host`` header.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import botocore.exceptions

from helpers.config import MODELS_BUCKET_2017, PROJECT_ROOT, Names
from helpers.live_only import is_aws_endpoint
from helpers.session import Account

WEB_DIR = PROJECT_ROOT / "web"
PAGE_FILE = WEB_DIR / "index.html"
INDEX_DOCUMENT = "index.html"
CONFIG_KEY = "config.js"
SITE_BUCKET_2017_STYLE = "serverless-poc-site"

DASH_REGIONS = frozenset(
    {
        "us-east-1",
        "us-west-1",
        "us-west-2",
        "eu-west-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-northeast-1",
        "sa-east-1",
        "us-gov-west-1",
    }
)
"""Regions whose website endpoint is ``s3-website-{region}``; all others (the newer regions) use
``s3-website.{region}``. From AWS's "Amazon S3 website endpoints" table (Amazon S3 endpoints and
quotas, AWS General Reference); re-check before teaching."""


def site_bucket_name(names: Names) -> str:
    """The site bucket: ``serverless-poc-site`` in mock mode; in live mode prefixed and made
    unique with the account id, like the model bucket it is derived from."""
    return names.models_bucket.replace(MODELS_BUCKET_2017, SITE_BUCKET_2017_STYLE, 1)


def website_host(bucket: str, region: str, domain: str = "amazonaws.com") -> str:
    """The website endpoint's host name in the region's form (dash or dot)."""
    separator = "-" if region in DASH_REGIONS else "."
    return f"{bucket}.s3-website{separator}{region}.{domain}"


def website_url(account: Account, bucket: str | None = None) -> str:
    """The address to open: AWS's website endpoint, or the mock account's equivalent.

    The mock's is used whenever the account's S3 client points at it: in mock mode, and in live
    mode against the mock account (``AWS_ENDPOINT_URL``, as ``make live-check`` runs in CI)."""
    bucket = bucket or site_bucket_name(account.names)
    s3 = account.client("s3")
    if account.settings.is_mock or not is_aws_endpoint(s3):
        port = urlsplit(s3.meta.endpoint_url).port
        return f"http://{website_host(bucket, account.region, 'localhost')}:{port}"
    return f"http://{website_host(bucket, account.region)}"


def public_read_policy(bucket: str) -> dict[str, Any]:
    """Everyone may GET the bucket's objects; nothing else (no listing, no writes)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicReadForWebsite",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }


BLOCK_PUBLIC_ACCESS_OFF = {
    "BlockPublicAcls": False,
    "IgnorePublicAcls": False,
    "BlockPublicPolicy": False,
    "RestrictPublicBuckets": False,
}


def config_script(api_url: str, api_key: str) -> str:
    """``config.js``: where the page sends its requests, and the key it sends."""
    settings = json.dumps({"apiUrl": api_url, "apiKey": api_key}, indent=2)
    return (
        "// Written by helpers.web_page when the page was uploaded. Public, like the page:\n"
        "// an API key is an identifier for a usage plan, not a secret.\n"
        f"window.ADMISSION_CONFIG = {settings};\n"
    )


@dataclass
class Site:
    """The published site: its bucket, its address and what was done to publish it."""

    bucket: str
    url: str
    steps: list[tuple[str, str]] = field(default_factory=list)

    def table(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.steps, columns=["step", "result"]).set_index("step")


def account_blocks_public_access(account: Account) -> dict[str, bool] | None:
    """The account-level Block Public Access settings, or None if there are none (or unreadable).

    They apply to every bucket and override the bucket's own: if ``RestrictPublicBuckets`` is on
    here, no bucket policy can make the site public and the page answers 403. Live mode only:
    boto3 sends S3 Control requests to ``{account id}.{endpoint}``, a host the mock's loopback
    address cannot have (the mock's website endpoint still honours an account-level setting).
    """
    if account.mock is not None:  # mock mode, or live settings on a mock account (make plan)
        return None
    try:
        found = account.client("s3control").get_public_access_block(AccountId=account.account_id)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
        return None  # none set (NoSuchPublicAccessBlockConfiguration), or not ours to read
    return dict(found["PublicAccessBlockConfiguration"])


def _put_policy(account: Account, bucket: str) -> None:
    """The public-read policy; retried briefly in live mode, where a just-lifted Block Public
    Access can take a few seconds to reach every S3 front end (AccessDenied meanwhile)."""
    s3 = account.client("s3")
    policy = json.dumps(public_read_policy(bucket))
    deadline = time.monotonic() + (0 if account.settings.is_mock else 30)
    while True:
        try:
            s3.put_bucket_policy(Bucket=bucket, Policy=policy)
            return
        except botocore.exceptions.ClientError as error:
            if error.response["Error"]["Code"] != "AccessDenied" or time.monotonic() > deadline:
                raise
            time.sleep(2)


def publish(account: Account, api_url: str, api_key: str, page: Path = PAGE_FILE) -> Site:
    """Create (or update) the site bucket, make its objects public, upload the page and config.

    Idempotent: a second call changes only what differs (the config when the API changed).
    """
    from helpers.deploy import ensure_bucket

    if not page.is_file():
        raise FileNotFoundError(f"The page {page} is missing; it is part of the repository (web/).")
    bucket = site_bucket_name(account.names)
    site = Site(bucket, website_url(account, bucket))
    created = ensure_bucket(account, bucket)
    site.steps.append(("bucket", f"{bucket} ({'created' if created else 'exists, ours'})"))
    s3 = account.client("s3")
    s3.put_bucket_website(
        Bucket=bucket, WebsiteConfiguration={"IndexDocument": {"Suffix": INDEX_DOCUMENT}}
    )
    site.steps.append(("website configuration", f"index document {INDEX_DOCUMENT}"))
    s3.put_public_access_block(
        Bucket=bucket, PublicAccessBlockConfiguration=BLOCK_PUBLIC_ACCESS_OFF
    )
    site.steps.append(("Block Public Access (this bucket)", "all four settings off"))
    _put_policy(account, bucket)
    site.steps.append(("bucket policy", f's3:GetObject on {bucket}/* for "Principal": "*"'))
    uploads = (
        (INDEX_DOCUMENT, page.read_bytes(), "text/html; charset=utf-8"),
        (CONFIG_KEY, config_script(api_url, api_key).encode(), "text/javascript; charset=utf-8"),
    )
    for key, body, content_type in uploads:
        s3.put_object(
            Bucket=bucket, Key=key, Body=body, ContentType=content_type, CacheControl="no-cache"
        )
        site.steps.append((f"s3://{bucket}/{key}", content_type))
    if account.mock is None:  # a real account (not make plan's live settings on a mock one)
        site.steps.append(("website endpoint", _wait_until_served(site.url)))
    account_block = account_blocks_public_access(account)
    if account_block and account_block.get("RestrictPublicBuckets"):
        site.steps.append(
            (
                "account Block Public Access",
                "RestrictPublicBuckets is ON for the whole account: the site will answer 403 "
                "until an administrator turns it off (or serve the page through CloudFront)",
            )
        )
    return site


def _wait_until_served(url: str, timeout_s: float = 60) -> str:
    """Live mode: a new bucket's website and a new policy can take a few seconds to answer 200
    everywhere (404 NoSuchBucket or 403 meanwhile); wait for the page, and say how it went."""
    import requests

    deadline, status = time.monotonic() + timeout_s, None
    while True:
        try:
            status = fetch(url).status_code
        except requests.RequestException as error:
            return f"not reachable from here ({type(error).__name__}); open {url} in a browser"
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(3)
    if status == 200:
        return "serves the page (200)"
    return (
        f"still answers {status} after {timeout_s:.0f} s; see the account Block Public Access row"
    )


def fetch(url: str, timeout: float = 10, **kwargs: Any) -> Any:
    """GET a website URL with ``requests``; a mock ``*.localhost`` host is reached on 127.0.0.1.

    Python's resolver does not map ``*.localhost`` to the loopback address (browsers do), so the
    request goes to 127.0.0.1 with the website's name in the ``Host`` header, as a browser sends it.
    """
    import requests

    parts = urlsplit(url)
    host = parts.hostname or ""
    if host.endswith(".localhost"):
        headers = {"Host": parts.netloc, **kwargs.pop("headers", {})}
        loopback = parts._replace(netloc=f"127.0.0.1:{parts.port or 80}").geturl()
        return requests.get(loopback, headers=headers, timeout=timeout, **kwargs)
    return requests.get(url, timeout=timeout, **kwargs)
