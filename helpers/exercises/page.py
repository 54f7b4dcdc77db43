"""Exercise of notebook 10: allow only the page's own origin, and let the browser judge it.

``Access-Control-Allow-Origin: *`` lets any web page call the API from its visitors' browsers
(with the key it finds in config.js). Naming the one origin that serves the page is narrower. An
origin is scheme, host and port, nothing more: no path, no trailing slash, and the browser
compares it character for character. The check applies the learner's origin to the API
(``helpers.cors.enable_cors``) and asks the page in headless Chromium: it must answer PASS.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from helpers.exercises.core import ExerciseNotDone, _a, require_attempt


def page_origin(url: str) -> str:
    """scheme://host[:port] of a URL (what a browser sends as ``Origin``)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _what_differs(attempt: str, origin: str) -> list[str]:
    problems = []
    parts, wanted = urlsplit(attempt), urlsplit(origin)
    if attempt == "*":
        problems.append("`*` is any origin, which is what we had: name this page's origin only")
        return problems
    if parts.path or parts.query or parts.fragment:
        problems.append(
            f"an origin has no path: drop {attempt[len(page_origin(attempt)) :]!r} (the browser "
            f"sends {origin!r}, compared character for character)"
        )
    if parts.scheme != wanted.scheme:
        problems.append(
            f"scheme: yours is {parts.scheme or '(none)'!r}, the page's {wanted.scheme!r}"
        )
    if (parts.hostname or "") != (wanted.hostname or ""):
        problems.append(f"host: yours is {parts.hostname!r}, the page's {wanted.hostname!r}")
    if parts.port != wanted.port:
        problems.append(f"port: yours is {parts.port}, the page's {wanted.port}")
    return problems


def check_page_origin(account: Any, api_id: str, site_url: str, my_origin: object) -> str:
    """Notebook 10: ``my_origin`` is the page's origin; applied to the API, the page passes."""
    from helpers import browser, cors

    require_attempt(my_origin, "my_origin", "write the page's origin as a string")
    if not isinstance(my_origin, str):
        raise ExerciseNotDone(
            f"`my_origin` is {_a(my_origin)}; write the origin as a string, scheme://host:port."
        )
    attempt = my_origin.strip()
    origin = page_origin(site_url)
    if attempt == "*":
        raise ExerciseNotDone(
            "`*` is any origin, which is what we had: name this page's origin only."
        )
    cors.enable_cors(account, api_id, origin=attempt)
    visit = browser.ask_page(site_url, 800, 4, 1, screenshot=False)
    if visit.result == "PASS":
        allowed = {seen.header("Access-Control-Allow-Origin") for seen in visit.api_calls}
        if allowed != {origin}:
            raise ExerciseNotDone(
                f"the page passed, but the API answered Access-Control-Allow-Origin {allowed}, "
                f"not only {origin!r}"
            )
        return (
            f"Done: the API now allows only {origin} (its preflight and its answers say so), and "
            "the page, opened in headless Chromium, answers PASS."
        )
    errors = sorted({seen.cors_error for seen in visit.requests if seen.cors_error})
    problems = _what_differs(attempt, origin) or ["compare it with the page's address again"]
    raise ExerciseNotDone(
        f"The browser blocked the call ({', '.join(errors) or visit.state}): the API allows "
        f"{attempt!r}, the page's origin is not that.\n"
        + "\n".join(f"- {problem}" for problem in problems)
    )
