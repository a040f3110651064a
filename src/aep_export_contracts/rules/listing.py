"""Semantic rules of the job list (paging and order)."""

from __future__ import annotations

from typing import Any

from ..http import query_value, split_url
from ..spec.api import PAGING
from . import Hit, rule
from .util import as_int, ptr

LIST = ("export-job-list",)


def _records(listing: Any) -> list[Any] | None:
    records = listing.get("records") if isinstance(listing, dict) else None
    return records if isinstance(records, list) else None


def _page(listing: Any) -> dict[str, Any]:
    """The page object (an empty one where there is none)."""
    page = listing.get("page") if isinstance(listing, dict) else None
    return page if isinstance(page, dict) else {}


def _page_size(listing: Any) -> int | None:
    size = _page(listing).get("pageSize")
    return size if size.__class__ is int else as_int(size)


def _next(listing: Any) -> Any:
    """link.next (None where there is no link object)."""
    link = listing.get("link") if isinstance(listing, dict) else None
    return link.get("next") if isinstance(link, dict) else None


def order_key(record: Any) -> tuple[int, int] | None:
    if not isinstance(record, dict):
        return None
    created, job_id = record.get("creationTime"), record.get("id")
    if created.__class__ is not int or job_id.__class__ is not int:  # (the common case: two integers)
        created, job_id = as_int(created), as_int(job_id)
        if created is None or job_id is None:
            return None
    return created, job_id


def cursor_of(record: Any) -> str | None:
    key = order_key(record)
    return None if key is None else f"{key[0]}_{key[1]}"


def _paged_in_order(listing: Any) -> bool:
    """Silent: AEC301 (order), AEC302 (page size), AEC303 (a short page's link.next) and AEC304 (the cursor), a
    screen in Python (see rules.rule): one pass over a page that says True only when none of them has anything
    to say. True for a page whose records are objects with integer creationTime and id, newest first; whose
    pageSize is an integer no smaller than the count of records; whose link.next is empty on a short page; and
    whose pageOffset and link.next, where given, name the last record's cursor, link.next as a path. Anything else
    lets the rules decide."""
    # (isinstance and type() narrow each value for mypy, and so for the compiled module: direct dict and int
    # operations instead of generic ones)
    if not isinstance(listing, dict):
        return False
    records, page, link = listing.get("records"), listing.get("page"), listing.get("link")
    if not isinstance(records, list) or not isinstance(page, dict):
        return False
    size = page.get("pageSize")
    if type(size) is not int or len(records) > size:
        return False
    previous: tuple[int, int] | None = None
    for record in records:
        if not isinstance(record, dict):
            return False
        created, job_id = record.get("creationTime"), record.get("id")
        if type(created) is not int or type(job_id) is not int:
            return False
        key = (created, job_id)
        if previous is not None and key > previous:
            return False
        previous = key
    nxt = link.get("next") if isinstance(link, dict) else None
    offset = page.get("pageOffset")
    if not (isinstance(offset, str) and offset) and not (isinstance(nxt, str) and nxt):
        return True  # (nothing names a cursor: AEC303 has no link to find either)
    if previous is None:
        return False
    cursor = f"{previous[0]}_{previous[1]}"
    if isinstance(offset, str) and offset and offset != cursor:
        return False
    if isinstance(nxt, str) and nxt:
        if len(records) < size or nxt[:1] != "/" or nxt[1:2] == "/" or "\t" in nxt or "\r" in nxt or "\n" in nxt:
            return False  # (a short page's next link, or one that is no path)
        sent = query_value(nxt.partition("#")[0].partition("?")[2], "offset")
        return sent is None or sent == cursor
    return True


@rule("AEC301", "list-newest-first", "error", LIST, screen=_paged_in_order)
def list_newest_first(listing: Any) -> list[Hit]:
    """Records come newest first (descending creationTime, then id).

    The page says sortField 'createdTime' and sort 'desc'; a record newer than the one before it
    breaks cursor paging, which resumes after the last record of a page.
    """
    records = _records(listing)
    if records is None or len(records) < 2:
        return []  # nothing to be out of order
    out, previous = [], None
    for i, record in enumerate(records):
        key = order_key(record)
        if key is None:
            continue
        if previous is not None and key > previous:
            out.append(Hit(ptr("records", i), f"record {i} (creationTime {key[0]}, id {key[1]}) is newer than "
                           f"the record before it", "sort records by creationTime descending, then id descending"))
        previous = key
    return out


@rule("AEC302", "page-size", "error", LIST, screen=_paged_in_order)
def page_size(listing: Any) -> list[Hit]:
    """A page holds no more records than its pageSize."""
    records = _records(listing)
    if records is None:
        return []
    size = _page_size(listing)
    if size is not None and len(records) > size:
        return [Hit(ptr("records"), f"{len(records)} records on a page of pageSize {size}",
                    "return at most 'limit' records per page")]
    return []


@rule("AEC303", "last-page-next", "error", LIST, screen=_paged_in_order)
def last_page_next(listing: Any) -> list[Hit]:
    """A short page is the last page: its link.next is empty or absent.

    A page with fewer records than its pageSize has nothing after it; a 'next' link there sends
    clients into an empty or repeating page.
    """
    records = _records(listing)
    if records is None:
        return []
    size = _page_size(listing)
    if size is None or len(records) >= size:
        return []
    nxt = _next(listing)
    if isinstance(nxt, str) and nxt:
        return [Hit(ptr("link", "next"), f"link.next is {nxt!r} on a page of {len(records)} < pageSize {size}",
                    "leave link.next empty on the last page")]
    return []


@rule("AEC304", "page-cursor", "error", LIST, screen=_paged_in_order)
def page_cursor(listing: Any) -> list[Hit]:
    """The paging cursor is the last record's '{creationTime}_{id}', and link.next is relative.

    page.pageOffset and the 'offset' of link.next name the last record of the page, so the next page
    starts right after it; link.next is a relative reference such as
    '/export/jobs/?limit=2&offset=1538573416687_722'.
    """
    offset, nxt = _page(listing).get("pageOffset"), _next(listing)
    if not (isinstance(offset, str) and offset) and not (isinstance(nxt, str) and nxt):
        return []  # the common case of an empty page: neither says anything to check
    records = _records(listing)
    expected = cursor_of(records[-1]) if records else None
    out = []
    if expected is not None and isinstance(offset, str) and offset and offset != expected:
        out.append(Hit(ptr("page", "pageOffset"), f"pageOffset {offset!r} is not the last record's cursor {expected!r}",
                       "set pageOffset to '{creationTime}_{id}' of the last record"))
    if isinstance(nxt, str) and nxt:
        parts = split_url(nxt)
        if parts.scheme or parts.netloc or not nxt.startswith("/"):
            out.append(Hit(ptr("link", "next"), f"link.next {nxt[:120]!r} is not a relative reference",
                           f"send a path such as '{PAGING.link('limit=2&offset={creationTime}_{id}')}'"))
        sent = query_value(parts.query, "offset") if expected is not None else None
        if sent is not None and sent != expected:
            out.append(Hit(ptr("link", "next"), f"link.next resumes at {sent!r}, not after the last record "
                           f"{expected!r}", ""))
    return out
