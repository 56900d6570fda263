"""The API's one JSON parser. It refuses, as 4xx JSON errors and before any view sees them:

* a body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413), before reading it into memory;
* a body declared in a charset other than UTF-8 (415): JSON is UTF-8 (RFC 8259), and
  decoding with whatever codec a client names would let it pick text or binary transforms;
* bytes that are not UTF-8, NaN/Infinity and numbers that overflow a float (1e400), integers
  past Python's digit limit, lone surrogates (``"\\ud800"``, which no database can store),
  and nesting deeper than ``MAX_DEPTH`` (400 ``parse_error``).

Everything a view reads from ``request.data`` therefore is finite, encodable and shallow.
"""

from __future__ import annotations

import json
import math

from django.conf import settings
from django.utils.http import parse_header_parameters
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

from wemoov.http_errors import PayloadTooLarge

# No request of the contract nests deeper than 2; 32 leaves room and stays far from the
# interpreter's recursion limit.
MAX_DEPTH = 32
UTF8_NAMES = {"utf-8", "utf8"}


class UnsupportedCharset(exceptions.UnsupportedMediaType):
    default_detail = "JSON bodies must be UTF-8."
    default_code = "unsupported_media_type"

    def __init__(self, charset: str):
        super().__init__(media_type=charset, detail=f'JSON bodies must be UTF-8, not "{charset[:40]}".')


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"Number out of range: {text[:40]}")
    return value


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _check_depth_and_text(data) -> None:
    """Walk the parsed document without recursion: depth cap, no lone surrogate anywhere."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            _check_text(value)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise exceptions.ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.")
        if isinstance(value, dict):
            for key, item in value.items():
                _check_text(key)
                stack.append((item, depth + 1))
        else:
            stack.extend((item, depth + 1) for item in value)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise exceptions.ParseError("JSON parse error - a string holds a lone surrogate.") from exc


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        if length and length.isascii() and length.isdigit() and int(length) > limit:
            raise PayloadTooLarge()
        if media_type:
            _, params = parse_header_parameters(media_type)
            charset = params.get("charset")
            if charset is not None and charset.strip().lower() not in UTF8_NAMES:
                raise UnsupportedCharset(charset)
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:  # no Content-Length, or a false one
            raise PayloadTooLarge()
        try:
            text = raw.decode("utf-8")
            data = json.loads(text, parse_float=_finite_float, parse_constant=_reject_constant)
        except RecursionError as exc:
            raise exceptions.ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.") from exc
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise exceptions.ParseError(f"JSON parse error - {str(exc)[:200]}") from exc
        _check_depth_and_text(data)
        return data
