"""List cursors: the `start` of a next or prev link, and reading one back.

A cursor is the bare value for a single string sort key (`start=2024-06-28T03:44:15.630Z`, as
Adobe's links show) and JSON otherwise: the sort values, with the id of the last item when a
page had to split items sharing a sort value. Clients treat `_links.next.href` as opaque.
"""

from __future__ import annotations

import json

from reconciler.emulator.problems import bad_request
from reconciler.model import JsonValue


def encode(values: list[JsonValue], object_id: str | None) -> str:
    if (
        object_id is None
        and len(values) == 1
        and isinstance(values[0], str)
        and values[0][:1] not in ("[", "{")
    ):
        return values[0]
    if object_id is None:
        return json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return json.dumps({"after": values, "id": object_id}, ensure_ascii=False, separators=(",", ":"))


def decode(start: str, width: int) -> tuple[list[JsonValue], str | None]:
    if start[:1] not in ("[", "{"):
        if width != 1:
            raise bad_request(f"start={start!r} does not fit orderby: it needs {width} values")
        return [start], None
    try:
        data = json.loads(start)
    except ValueError:
        raise bad_request(f"start={start!r} is not a cursor from a next link") from None
    values, object_id = (
        (data, None)
        if isinstance(data, list)
        else (data.get("after"), data.get("id"))
        if isinstance(data, dict)
        else (None, None)
    )
    if (
        not isinstance(values, list)
        or len(values) != width
        or not (object_id is None or isinstance(object_id, str))
    ):
        raise bad_request(f"start={start!r} does not fit orderby: it needs {width} values")
    return values, object_id
