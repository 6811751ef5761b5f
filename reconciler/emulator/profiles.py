"""The emulator's stand-in for Adobe's Profile service: profiles seeded per sandbox and identity.

The emulator has no Profile service, so `PUT /_emulator/profiles/{namespace}/{id}` with
`{"attributes": {...}, "audiences": ["<audience id>"]}` (and the gateway headers of a data call,
which name the sandbox) stores a profile for the Decisioning API (`reconciler.emulator.decisions`)
to find by identity. In memory only: a served emulator keeps its profiles while it runs; the
embedded sandbox lives for one command, so `reconciler check` seeds its profiles each time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from reconciler.eligibility import Identity, Profile
from reconciler.emulator.gateway import Caller
from reconciler.emulator.problems import bad_request
from reconciler.emulator.records import Partition
from reconciler.model import JsonObject, JsonValue

PATH = "/_emulator/profiles"


@dataclass
class Profiles:
    """The profiles seeded into the emulator, per sandbox and identity (in memory only)."""

    stored: dict[tuple[Partition, str, str], Profile] = field(default_factory=dict)

    def put(self, partition: Partition, profile: Profile) -> None:
        assert profile.identity is not None
        self.stored[(partition, profile.identity.namespace, profile.identity.id)] = profile

    def find(self, partition: Partition, identities: Sequence[tuple[str, str]]) -> Profile | None:
        return next(
            (
                self.stored[(partition, namespace, id_)]
                for namespace, id_ in identities
                if (partition, namespace, id_) in self.stored
            ),
            None,
        )


def seed(caller: Caller, profiles: Profiles, namespace: str, id_: str, body: JsonValue) -> Profile:
    """Store the profile a seeding request sends (400 for anything but attributes, audiences)."""
    if not isinstance(body, dict) or set(body) - {"attributes", "audiences"}:
        raise bad_request('a profile is {"attributes": {...}, "audiences": ["<audience id>"]}')
    attributes, audiences = body.get("attributes", {}), body.get("audiences", [])
    if not isinstance(attributes, dict):
        raise bad_request("/attributes: must be a JSON object of XDM attributes")
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        raise bad_request("/audiences: must be a list of audience ids")
    profile = Profile(
        attributes=attributes,
        audiences=frozenset(str(a) for a in audiences),
        identity=Identity(namespace, id_),
    )
    profiles.put(caller.partition, profile)
    return profile


def profile_json(profile: Profile) -> JsonObject:
    assert profile.identity is not None
    return {
        "namespace": profile.identity.namespace,
        "id": profile.identity.id,
        "attributes": dict(profile.attributes),
        "audiences": [str(audience) for audience in sorted(profile.audiences)],
    }
