"""The mock account's S3 website endpoint: a bucket's static website, served as AWS serves it.

Where it listens, and why. The page and the API must be different origins, or the browser never
applies CORS and notebook 10 would show nothing real. The website is served by the same mock
server (same port) but under its own host name, ``{bucket}.s3-website-{region}.localhost:{port}``
(AWS's ``bucket.s3-website-region.amazonaws.com`` with ``localhost`` for ``amazonaws.com``),
while the API answers at ``127.0.0.1:{port}``. The hosts differ, so the origins differ, exactly
as on AWS where the site and ``execute-api`` are different hosts; and no second port, thread or
server has to be started, stopped or cleaned up. Chromium resolves every ``*.localhost`` name to
the loopback address itself (RFC 6761), so a browser reaches it with no DNS or /etc/hosts entry.
Python's resolver does not (``getaddrinfo`` fails for ``x.localhost`` here): from Python connect
to ``127.0.0.1:{port}`` and send the website host in the ``Host`` header
(``helpers.web_page.fetch`` does).

What it serves: the index document for ``/`` and ``folder/``, a 302 from ``folder`` to
``folder/``, objects with their Content-Type and ETag (304 for a matching If-None-Match), the
error document for 403/404, RedirectAllRequestsTo and per-object redirects. Only objects the
anonymous caller may read (access.py): the bucket policy must allow ``s3:GetObject`` to
``"*"`` and Block Public Access (``RestrictPublicBuckets``) must not cancel it; otherwise 403.
A missing key is 404 NoSuchKey only when everyone may ``s3:ListBucket``, otherwise 403. Errors
are AWS's HTML pages (NoSuchBucket, NoSuchWebsiteConfiguration, NoSuchKey, AccessDenied,
MethodNotAllowed). Gaps: routing rules, ACL grants and policy conditions are not evaluated
(conditions fail closed); bucket CORS on the website endpoint is not served; no HTTPS (AWS's
website endpoints have none either).

backend.py decides (reading moto's S3 state at each request); wire.py speaks HTTP.
"""

from .backend import WebsiteAnswer, answer
from .wire import WEBSITE_HOST, serve, website_bucket

__all__ = ["WEBSITE_HOST", "WebsiteAnswer", "answer", "serve", "website_bucket"]
