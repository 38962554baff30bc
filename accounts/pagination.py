from rest_framework.pagination import CursorPagination


class StoreCursorPagination(CursorPagination):
    """Cursor pagination ordered by the view's ``ordering`` (stable under inserts, no page counting)."""

    ordering = "-created_at"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_ordering(self, request, queryset, view):
        ordering = getattr(view, "ordering", None) or self.ordering
        ordering = (ordering,) if isinstance(ordering, str) else tuple(ordering)
        tiebreak = "-id" if ordering[0].startswith("-") else "id"
        return ordering if tiebreak in ordering else (*ordering, tiebreak)
