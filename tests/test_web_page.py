"""The page and its hosting: the site bucket made public the way S3 requires, in mock and live mode."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
import requests

from helpers import cleanup, web_page
from helpers.config import names_for
from helpers.session import LiveModeNotConfirmed, connect, disconnect


@pytest.fixture
def account(mock_account, monkeypatch):
    """The series' mock-mode Account on this module's mock account."""
    monkeypatch.setenv("SERIES_MODE", "mock")
    monkeypatch.delenv("SERIES_PREFIX", raising=False)
    disconnect()
    connected = connect()
    yield connected
    cleanup.delete_site(connected)
    disconnect()


def test_site_bucket_names():
    assert web_page.site_bucket_name(names_for("mock")) == "serverless-poc-site"
    live = names_for("live", "alice", "123456789012")
    assert web_page.site_bucket_name(live) == "alice-serverless-poc-site-123456789012"


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("us-east-1", "b.s3-website-us-east-1.amazonaws.com"),
        ("eu-west-1", "b.s3-website-eu-west-1.amazonaws.com"),
        ("eu-central-1", "b.s3-website.eu-central-1.amazonaws.com"),
        ("us-east-2", "b.s3-website.us-east-2.amazonaws.com"),
    ],
)
def test_website_host_uses_the_regions_form(region, host):
    assert web_page.website_host("b", region) == host


def test_publish_makes_only_the_objects_public_and_serves_the_page(account):
    site = web_page.publish(account, "http://127.0.0.1:1/prod/admit", "key-123")
    s3 = account.client("s3")
    bucket = "serverless-poc-site"
    assert site.bucket == bucket
    assert re.fullmatch(
        r"http://serverless-poc-site\.s3-website-us-east-1\.localhost:\d+", site.url
    )
    website = s3.get_bucket_website(Bucket=bucket)
    assert website["IndexDocument"] == {"Suffix": "index.html"}
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert not any(block.values())
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert policy == web_page.public_read_policy(bucket)
    (statement,) = policy["Statement"]
    assert statement["Action"] == "s3:GetObject"  # no listing, no writes
    assert statement["Resource"] == f"arn:aws:s3:::{bucket}/*"
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    assert tags == account.tags
    page = web_page.fetch(site.url)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.content == web_page.PAGE_FILE.read_bytes()
    config = web_page.fetch(f"{site.url}/config.js")
    assert config.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert '"apiUrl": "http://127.0.0.1:1/prod/admit"' in config.text
    assert '"apiKey": "key-123"' in config.text


def test_publish_again_updates_the_config_and_keeps_one_bucket(account):
    web_page.publish(account, "http://127.0.0.1:1/old", "k1")
    site = web_page.publish(account, "http://127.0.0.1:1/new", "k2")
    assert "exists" in dict(site.steps)["bucket"]
    config = web_page.fetch(f"{site.url}/config.js").text
    assert "/new" in config and "/old" not in config


def test_cleanup_deletes_the_site_bucket_with_its_objects(account):
    web_page.publish(account, "http://127.0.0.1:1/prod/admit", "k")
    assert ("S3 bucket", "serverless-poc-site") in cleanup.series_resources(account)
    result = cleanup.delete_site(account)
    assert result.loc["S3 bucket serverless-poc-site", "result"] == "deleted"
    buckets = [b["Name"] for b in account.client("s3").list_buckets()["Buckets"]]
    assert "serverless-poc-site" not in buckets


def _unreachable(url, **kwargs):
    raise requests.ConnectionError(f"no network to {url} in tests")


def test_live_mode_refuses_without_opt_in_then_creates_prefixed_tagged(live, monkeypatch):
    monkeypatch.setattr(web_page, "fetch", _unreachable)  # the live website is on the internet
    with pytest.raises(LiveModeNotConfirmed):
        web_page.publish(live, "https://x.execute-api.us-east-1.amazonaws.com/prod/admit", "k")
    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")
    site = web_page.publish(live, "https://x.execute-api.us-east-1.amazonaws.com/prod/admit", "k")
    bucket = f"alice-serverless-poc-site-{live.account_id}"
    assert site.bucket == bucket
    port = live.client("s3").meta.endpoint_url.rsplit(":", 1)[-1]  # live mode, the mock's endpoint
    assert site.url == f"http://{bucket}.s3-website-us-east-1.localhost:{port}"
    tags = {
        t["Key"]: t["Value"] for t in live.client("s3").get_bucket_tagging(Bucket=bucket)["TagSet"]
    }
    assert tags == {"project": "serverless-poc", "owner": "alice"}
    assert dict(site.steps)["website endpoint"].startswith("not reachable from here")
    assert cleanup.delete_site(live).loc[f"S3 bucket {bucket}", "result"] == "deleted"


def test_live_publish_waits_until_the_new_website_serves(monkeypatch):
    """A new bucket's website answers 404/403 for a few seconds on AWS; publish waits for 200."""
    answers = iter([404, 403, 200])
    monkeypatch.setattr(
        web_page, "fetch", lambda url: type("Answer", (), {"status_code": next(answers)})
    )
    monkeypatch.setattr(web_page.time, "sleep", lambda seconds: None)
    assert web_page._wait_until_served("http://b.s3-website-us-east-1.amazonaws.com") == (
        "serves the page (200)"
    )


class _Assets(HTMLParser):
    """Every URL the page would load (src, href) and every script/style it has."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


def test_the_page_loads_nothing_from_the_network_but_its_config():
    parser = _Assets()
    parser.feed(web_page.PAGE_FILE.read_text())
    assert parser.urls == ["data:,", "config.js"]
    text = web_page.PAGE_FILE.read_text()
    assert "x-api-key" in text  # the header API Gateway reads the key from
    assert len(text) < 12_000  # one small file, no build step
