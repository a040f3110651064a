"""Semantic rules of the job list (paging and order)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

from ..http import split_url
from ..spec.api import PAGING
from . import Hit, rule
from .util import as_int, as_list, dig, ptr

LIST = ("export-job-list",)


def order_key(record: Any) -> tuple[int, int] | None:
    created, job_id = as_int(dig(record, "creationTime")), as_int(dig(record, "id"))
    if created is None or job_id is None:
        return None
    return created, job_id


def cursor_of(record: Any) -> str | None:
    key = order_key(record)
    return None if key is None else f"{key[0]}_{key[1]}"


@rule("AEC301", "list-newest-first", "error", LIST)
def list_newest_first(listing: Any) -> Iterator[Hit]:
    """Records come newest first (descending creationTime, then id).

    The page says sortField 'createdTime' and sort 'desc'; a record newer than the one before it
    breaks cursor paging, which resumes after the last record of a page.
    """
    previous = None
    for i, record in enumerate(as_list(dig(listing, "records"))):
        key = order_key(record)
        if key is None:
            continue
        if previous is not None and key > previous:
            yield Hit(ptr("records", i), f"record {i} (creationTime {key[0]}, id {key[1]}) is newer than "
                      f"the record before it", "sort records by creationTime descending, then id descending")
        previous = key


@rule("AEC302", "page-size", "error", LIST)
def page_size(listing: Any) -> Iterator[Hit]:
    """A page holds no more records than its pageSize."""
    size = as_int(dig(listing, "page", "pageSize"))
    records = dig(listing, "records")
    if size is not None and isinstance(records, list) and len(records) > size:
        yield Hit(ptr("records"), f"{len(records)} records on a page of pageSize {size}",
                  "return at most 'limit' records per page")


@rule("AEC303", "last-page-next", "error", LIST)
def last_page_next(listing: Any) -> Iterator[Hit]:
    """A short page is the last page: its link.next is empty or absent.

    A page with fewer records than its pageSize has nothing after it; a 'next' link there sends
    clients into an empty or repeating page.
    """
    size = as_int(dig(listing, "page", "pageSize"))
    records = dig(listing, "records")
    nxt = dig(listing, "link", "next")
    if size is not None and isinstance(records, list) and len(records) < size and isinstance(nxt, str) and nxt:
        yield Hit(ptr("link", "next"), f"link.next is {nxt!r} on a page of {len(records)} < pageSize {size}",
                  "leave link.next empty on the last page")


@rule("AEC304", "page-cursor", "error", LIST)
def page_cursor(listing: Any) -> Iterator[Hit]:
    """The paging cursor is the last record's '{creationTime}_{id}', and link.next is relative.

    page.pageOffset and the 'offset' of link.next name the last record of the page, so the next page
    starts right after it; link.next is a relative reference such as
    '/export/jobs/?limit=2&offset=1538573416687_722'.
    """
    records = as_list(dig(listing, "records"))
    expected = cursor_of(records[-1]) if records else None
    offset = dig(listing, "page", "pageOffset")
    if expected is not None and isinstance(offset, str) and offset and offset != expected:
        yield Hit(ptr("page", "pageOffset"), f"pageOffset {offset!r} is not the last record's cursor {expected!r}",
                  "set pageOffset to '{creationTime}_{id}' of the last record")
    nxt = dig(listing, "link", "next")
    if isinstance(nxt, str) and nxt:
        parts = split_url(nxt)
        if parts.scheme or parts.netloc or not nxt.startswith("/"):
            yield Hit(ptr("link", "next"), f"link.next {nxt[:120]!r} is not a relative reference",
                      f"send a path such as '{PAGING.link('limit=2&offset={creationTime}_{id}')}'")
        sent = parse_qs(parts.query).get("offset")
        if expected is not None and sent and sent[0] != expected:
            yield Hit(ptr("link", "next"), f"link.next resumes at {sent[0]!r}, not after the last record "
                      f"{expected!r}", "")
