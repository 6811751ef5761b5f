"""One stored object: its payload exactly as sent plus the envelope the server owns."""

from __future__ import annotations

import datetime
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.kinds import SPECS
from reconciler.model import JsonObject, JsonValue, Kind

Partition = tuple[str, str]
"""Data is partitioned by (IMS org, sandbox name)."""


def timestamp(epoch: float) -> str:
    """ISO-8601 UTC with milliseconds and `Z`, as newer DPS pages show (`2024-08-08T23:45:15.380Z`)."""
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id(kind: Kind, epoch: float) -> str:
    """`dps:<segment>:<16 lowercase hex>`: milliseconds then 20 random bits, time-ordered like Adobe's."""
    millis = int(epoch * 1000) & 0xFFF_FFFF_FFFF
    return f"dps:{SPECS[kind].id_segment}:{millis:011x}{secrets.randbits(20):05x}"


def sandbox_id(partition: Partition) -> str:
    """A stable UUID per (org, sandbox), standing in for Adobe's sandbox id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"dps://{partition[0]}/{partition[1]}"))


def identity(client_id: str) -> str:
    """The user a technical account's writes are attributed to."""
    return f"{client_id}@techacct.adobe.com"


@dataclass(frozen=True, slots=True)
class Record:
    """A stored object. `body` is never mutated: writes build a new Record."""

    kind: Kind
    id: str
    etag: int
    created: str
    modified: str
    created_by: str
    modified_by: str
    created_client: str
    modified_client: str
    body: Mapping[str, JsonValue]

    def read(self) -> JsonObject:
        """The GET shape: envelope fields first, then the payload (reference §2.3).

        Decision items carry no `schemas` (their kind has no schema URI: Adobe's reads show none).
        """
        schema = SPECS[self.kind].schema
        return {
            "created": self.created,
            "modified": self.modified,
            "etag": self.etag,
            **({"schemas": [schema]} if schema else {}),
            "createdBy": self.created_by,
            "lastModifiedBy": self.modified_by,
            "id": self.id,
            **self.body,
        }

    def receipt(self, partition: Partition) -> JsonObject:
        """The write receipt shape (reference §2.2)."""
        return {
            "etag": self.etag,
            "createdBy": self.created_by,
            "lastModifiedBy": self.modified_by,
            "id": self.id,
            "sandboxId": sandbox_id(partition),
            "createdDate": self.created,
            "lastModifiedDate": self.modified,
            "createdByClientId": self.created_client,
            "lastModifiedByClientId": self.modified_client,
        }

    def to_json(self) -> JsonObject:
        return {
            "kind": self.kind.value,
            "id": self.id,
            "etag": self.etag,
            "created": self.created,
            "modified": self.modified,
            "createdBy": self.created_by,
            "lastModifiedBy": self.modified_by,
            "createdByClientId": self.created_client,
            "lastModifiedByClientId": self.modified_client,
            "body": dict(self.body),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, JsonValue]) -> Record:
        """Raises KeyError/ValueError/TypeError on a line that is not a record."""
        body = data["body"]
        etag = data["etag"]
        if not isinstance(body, dict) or isinstance(etag, bool) or not isinstance(etag, int):
            raise TypeError("not a record")
        texts = {
            name: data[name]
            for name in (
                "id",
                "created",
                "modified",
                "createdBy",
                "lastModifiedBy",
                "createdByClientId",
                "lastModifiedByClientId",
            )
        }
        if not all(isinstance(value, str) for value in texts.values()):
            raise TypeError("not a record")
        return cls(
            kind=Kind(data["kind"]),
            id=str(texts["id"]),
            etag=etag,
            created=str(texts["created"]),
            modified=str(texts["modified"]),
            created_by=str(texts["createdBy"]),
            modified_by=str(texts["lastModifiedBy"]),
            created_client=str(texts["createdByClientId"]),
            modified_client=str(texts["lastModifiedByClientId"]),
            body=body,
        )
