"""A JSON parser that refuses oversized bodies before reading them into memory."""

from django.conf import settings
from rest_framework.parsers import JSONParser

from wemoov.http_errors import PayloadTooLarge


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        if length and length.isdigit() and int(length) > limit:
            raise PayloadTooLarge()
        return super().parse(stream, media_type, parser_context)
