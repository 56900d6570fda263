"""Cursor pagination for every list: newest first, never a COUNT(*)."""

from rest_framework import exceptions
from rest_framework.pagination import CursorPagination


class CreatedAtCursorPagination(CursorPagination):
    ordering = "-created_at"
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        """`?page_size=` up to 100 (a larger value is capped); anything that is not a
        positive integer is a 400 rather than silently the default."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or int(raw) < 1:
            raise exceptions.ValidationError({self.page_size_query_param: ["Must be a positive integer."]})
        return min(int(raw), self.max_page_size)

    def get_paginated_response_schema(self, schema):
        """Schema hint: `next` and `previous` are always present (null at either end)."""
        response = super().get_paginated_response_schema(schema)
        response["required"] = ["next", "previous", "results"]
        return response
