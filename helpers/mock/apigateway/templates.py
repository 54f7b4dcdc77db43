"""Mapping templates: API Gateway's Velocity variables over airspeed (the engine LocalStack keeps).

The engine is airspeed-ext's; what API Gateway adds to Velocity is here, in Python, as in
LocalStack: ``$input`` (``body``, ``json``, ``path``, ``params``), ``$util`` (``escapeJavaScript``,
``parseJson``, ``urlEncode``, ``urlDecode``, ``base64Encode``, ``base64Decode``), ``$context`` and
``$stageVariables``. A template that fails to parse or to run raises ``TemplateFailure``; the
caller answers API Gateway's 500 and goes on serving.

Known differences from AWS: a map or list rendered as such prints in Python's notation, where
API Gateway prints Java's (``{a=1}``); ``$input.json``/``$input.path`` take the JSONPath subset
jsonpath-ng reads (``$``, ``$.a.b``, ``$['a']``, ``$.a[0]``, ``$..a``), which covers the
documented examples.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import airspeed
from jsonpath_ng import parse as parse_jsonpath


class TemplateFailure(Exception):
    """A mapping template that could not be parsed or rendered (API Gateway answers 500)."""


@lru_cache(maxsize=256)
def _compiled(source: str) -> airspeed.Template:
    template = airspeed.Template(source)
    template.ensure_compiled()
    return template


@lru_cache(maxsize=256)
def _jsonpath(expression: str) -> Any:
    return parse_jsonpath(expression)


def _select(document: Any, expression: str) -> Any:
    """Evaluate a JSONPath on a document: one match is the value, several a list, none None."""
    matches = [match.value for match in _jsonpath(expression or "$").find(document)]
    if not matches:
        return None
    return matches[0] if len(matches) == 1 else matches


class VelocityInput:
    """``$input``: the request (or integration response) body and, for requests, its parameters."""

    def __init__(
        self,
        body: str,
        path_parameters: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.body = body
        self._parameters = {
            "path": dict(path_parameters or {}),
            "querystring": dict(query or {}),
            "header": dict(headers or {}),
        }
        self._lower_headers = {name.lower(): value for name, value in (headers or {}).items()}

    def _document(self) -> Any:
        if not self.body.strip():
            return {}
        try:
            return json.loads(self.body)
        except ValueError as error:
            raise TemplateFailure(f"$input: the body is not JSON ({error})") from error

    def json(self, expression: str = "$") -> str:
        """The JSONPath's value as JSON text (``$input.json('$.a')``)."""
        return json.dumps(_select(self._document(), expression))

    def path(self, expression: str = "$") -> Any:
        """The JSONPath's value as an object (``$input.path('$.errorMessage')``)."""
        return _select(self._document(), expression)

    def params(self, name: str | None = None) -> Any:
        """All parameters by kind, or one by name: path first, then query string, then header."""
        if name is None:
            return self._parameters
        for kind in ("path", "querystring"):
            if name in self._parameters[kind]:
                return self._parameters[kind][name]
        return self._lower_headers.get(str(name).lower(), "")


class VelocityUtil:
    """``$util``: the helpers API Gateway documents for mapping templates (its camelCase names)."""

    def escapeJavaScript(self, text: Any) -> str:
        """JavaScript string escaping; like API Gateway it escapes single quotes too."""
        if text is None:
            return ""
        escaped = json.dumps(str(text), ensure_ascii=False)[1:-1]
        return escaped.replace("'", "\\'")

    def parseJson(self, text: Any) -> Any:
        try:
            return json.loads(str(text))
        except ValueError as error:
            raise TemplateFailure(f"$util.parseJson: not JSON ({error})") from error

    def urlEncode(self, text: Any) -> str:
        return quote_plus(str(text))

    def urlDecode(self, text: Any) -> str:
        return unquote_plus(str(text))

    def base64Encode(self, text: Any) -> str:
        data = text if isinstance(text, bytes) else str(text).encode()
        return base64.b64encode(data).decode()

    def base64Decode(self, text: Any) -> str:
        try:
            return base64.b64decode(str(text), validate=True).decode("utf-8", "replace")
        except ValueError as error:
            raise TemplateFailure(f"$util.base64Decode: not base64 ({error})") from error


@dataclass
class TemplateVariables:
    """What a template sees besides ``$input``: ``$context`` and ``$stageVariables``."""

    context: dict[str, Any]
    stage_variables: dict[str, str] = field(default_factory=dict)


_UTIL = VelocityUtil()


def render(source: str, template_input: VelocityInput, variables: TemplateVariables) -> str:
    """Render a mapping template, or raise ``TemplateFailure`` saying why it failed."""
    namespace = {
        "input": template_input,
        "util": _UTIL,
        "context": variables.context,
        "stageVariables": variables.stage_variables,
    }
    try:
        return str(_compiled(source).merge(namespace))
    except TemplateFailure:
        raise
    except Exception as error:  # airspeed's syntax/execution errors and anything a call raised
        raise TemplateFailure(f"{type(error).__name__}: {error}") from error
