"""A model-based chaos test: git edits, UI edits (also racing listings and writes), lost answers,
5xx, 429, SIGKILL of apply and loss of state, against the served emulator, with the invariants
of the trust issue checked after every round.

One seed is one run of ROUNDS rounds against a fresh served emulator (`--control`, `--data`), in
one If-Match mode (even seeds: the server honours If-Match; odd seeds: it ignores it). A round:

1. git edits (priorities, descriptions, tags added and removed, offers added, removed, renamed);
2. UI edits through the API (priority, description, status, labels, a deleted offer);
3. sometimes the state file is lost;
4. with faults on (5xx, dropped connections, 429, race edits during listings and right before
   writes): `plan --out`, then `apply plan.json` in a subprocess, sometimes SIGKILLed mid-apply;
5. with faults off: `plan --out`, `apply` (one clean apply), then `plan --detailed-exitcode` and
   `drift` must both exit 0.

After every apply the emulator's journal (every write, by whom, with the whole object) is read
back to check that no write of the reconciler changed a value set by a UI edit its plan did not
show (the only exceptions are the documented ones when the server ignores If-Match: a top-level
field the update adds, and a delete, which JSON Patch cannot guard); and after every round that
no two live objects share a kind and name, every id in state exists, and every key is managed.

    python -m tests.chaos --seeds 200          # make chaos SEEDS=200
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import dataclasses
import gc
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from emulator_support import served  # noqa: E402

from reconciler import api, commands, diff  # noqa: E402
from reconciler.cli import cli  # noqa: E402
from reconciler.model import Credentials, Kind, name_of  # noqa: E402

ROUNDS = 6
CLIENT = "ci-bot"
SECRET = "chaos-secret-value"
UI = "marketer-ui"
ORG = "1234ABCD@AdobeOrg"
WEB = "https://ns.adobe.com/xdm/channel-types/web"
CATALOG = "dps:offer-catalog:0000000000000001"  # the emulator's default catalog
SCHEMA = "https://ns.adobe.com/reconciler/schemas/offer-items"
FAULTS = {
    "error_rate": 0.08,
    "drop_rate": 0.08,
    "race_list": 0.15,
    "race_write": 0.25,
    "rate_limit": 150.0,
}
CLEAN = {
    "error_rate": 0.0,
    "drop_rate": 0.0,
    "race_list": 0.0,
    "race_write": 0.0,
    "rate_limit": None,
}


class Violation(AssertionError):
    """An invariant does not hold: the message says which, where, and how to replay the seed."""


@dataclasses.dataclass
class Figures:
    """What one or many seeds did and found."""

    seeds: int = 0
    rounds: int = 0
    git_edits: int = 0
    ui_edits: int = 0
    raced_edits: int = 0
    lost_states: int = 0
    kills: int = 0
    writes_checked: int = 0
    conflicts: int = 0
    overwrites: int = 0
    gaps: int = 0  # overwrites JSON Patch cannot prevent when If-Match is ignored (documented)

    def add(self, other: Figures) -> None:
        for field in dataclasses.fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


# --- the estate, as a model git edits ---------------------------------------------------------


def ref(key: str) -> dict[str, str]:
    return {"ref": key}


def initial_estate() -> dict[str, dict[str, Any]]:
    """key -> {"kind": ..., **body}: a small estate that uses every kind."""
    offer = {
        "kind": "personalized-offer",
        "status": "approved",
        "representations": [
            {
                "channel": WEB,
                "placement": ref("placements/web"),
                "components": [{"type": "html", "format": "text/html", "content": "<p>x</p>"}],
            }
        ],
        "selectionConstraint": {
            "startDate": "2027-06-01T00:00:00.000Z",
            "endDate": "2027-08-31T23:59:59.000Z",
            "profileConstraintType": "eligibilityRule",
            "eligibilityRule": ref("rules/gold"),
        },
        "rank": {"priority": 5},
        "tags": [ref("tags/summer")],
    }
    estate: dict[str, dict[str, Any]] = {
        "placements/web": {
            "kind": "placement",
            "name": "Web banner",
            "description": "Hero banner",
            "componentType": "html",
            "channel": WEB,
        },
        "tags/summer": {"kind": "tag", "name": "Summer"},
        "tags/winter": {"kind": "tag", "name": "Winter"},
        "rules/gold": {
            "kind": "decision-rule",
            "name": "Gold members",
            "condition": {
                "type": "PQL",
                "format": "pql/text",
                "value": 'profile.loyalty.tier.equals("gold", false)',
            },
        },
        "fallback/default": {
            "kind": "fallback-offer",
            "name": "Free shipping",
            "status": "approved",
            "representations": [
                {
                    "channel": WEB,
                    "placement": ref("placements/web"),
                    "components": [{"type": "html", "format": "text/html", "content": "<p>f</p>"}],
                }
            ],
        },
        "collections/summer": {
            "kind": "collection",
            "name": "Summer offers",
            "filterType": "any-tags",
            "ids": [ref("tags/summer")],
        },
        "decisions/home": {
            "kind": "decision",
            "name": "Home page",
            "status": "live",
            "startDate": "2027-06-01T00:00:00.000Z",
            "endDate": "2027-08-31T23:59:59.000Z",
            "fallback": ref("fallback/default"),
            "criteria": [
                {
                    "placements": [ref("placements/web")],
                    "rank": {"priority": 0},
                    "optionSelection": {"filter": ref("collections/summer")},
                }
            ],
        },
    }
    for index, name in enumerate(("Sale", "Bundle", "Flash")):
        estate[f"offers/{name.lower()}"] = {
            **json.loads(json.dumps(offer)),
            "name": f"{name} offer",
            "description": f"The {name.lower()} offer",
            "rank": {"priority": 5 + index},
        }
    estate["offers/sale"]["characteristics"] = {}  # git's empty object: asserted whole
    estate.update(decisioning_estate())
    return estate


def ui_model(right: str) -> dict[str, Any]:
    return {"operator": "equals", "value": {"left": "_reconciler.category", "right": right}}


def decisioning_estate() -> dict[str, dict[str, Any]]:
    """The Decisioning kinds next to the legacy ones: items (XDM bodies), an item collection
    (uiModel stringified on the wire), a strategy, and an exd placement (updated by PUT)."""
    estate: dict[str, dict[str, Any]] = {
        "exd/rule": {
            "kind": "eligibility-rule",
            "name": "Winter shoppers",
            "condition": {"type": "PQL", "format": "pql/text", "value": "true"},
        },
        "exd/apparel": {
            "kind": "item-collection",
            "name": "Apparel",
            "constraints": [{"uiModel": ui_model("apparel")}],
        },
        "exd/strategy": {
            "kind": "selection-strategy",
            "name": "Apparel first",
            "rank": {"priority": 1, "order": {"orderEvaluationType": "static"}},
            "profileConstraint": {
                "profileConstraintType": "eligibilityRule",
                "eligibilityRule": ref("exd/rule"),
            },
            "optionSelection": {"filter": ref("exd/apparel")},
        },
        "exd/hero": {
            "kind": "exd-placement",
            "name": "Home hero",
            "description": "The hero slot",
            "channel": WEB,
            "status": "active",
        },
    }
    for index, name in enumerate(("Coat", "Scarf")):
        estate[f"exd/{name.lower()}"] = {
            "kind": "decision-item",
            "_experience": {
                "decisioning": {
                    "offeritem": {"lifecycleStatus": "approved"},
                    "decisionitem": {
                        "itemName": name,
                        "itemDescription": f"The {name.lower()}",
                        "itemPriority": 10 + index,
                        "itemConstraints": {
                            "profileConstraintType": "eligibilityRule",
                            "eligibilityRule": ref("exd/rule"),
                        },
                    },
                }
            },
            "_reconciler": {"category": "apparel", "margin": index},
        }
    return estate


def write_estate(root: Path, estate: dict[str, dict[str, Any]]) -> None:
    """offers/ exactly as the model says (JSON is YAML 1.2)."""
    offers = root / "offers"
    if offers.exists():
        shutil.rmtree(offers)
    for key, document in estate.items():
        path = offers / f"{key}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2) + "\n")


class Git:
    """Edits of the estate model, each leaving a valid estate."""

    def __init__(self, rng: random.Random, estate: dict[str, dict[str, Any]]) -> None:
        self.rng = rng
        self.estate = estate
        self.serial = 0

    def offers(self) -> list[str]:
        return sorted(k for k, v in self.estate.items() if v["kind"] == "personalized-offer")

    def edit(self) -> str:
        self.serial += 1
        rng, offers = self.rng, self.offers()
        choice = rng.choice(
            [
                "priority",
                "description",
                "drop-description",
                "tag",
                "new",
                "remove",
                "rename",
                "placement",
                "item",
                "hero",
                "ui-model",
            ]
        )
        key = rng.choice(offers)
        offer = self.estate[key]
        match choice:
            case "priority":
                offer["rank"] = {"priority": rng.randrange(0, 40)}
            case "description":
                offer["description"] = f"git revision {self.serial}"
            case "drop-description":
                offer.pop("description", None)
            case "tag":
                tags = offer.setdefault("tags", [])
                if ref("tags/winter") in tags:
                    tags.remove(ref("tags/winter"))
                else:
                    tags.insert(0, ref("tags/winter"))
            case "new":
                name = f"New {self.serial}"
                self.estate[f"offers/new-{self.serial}"] = {
                    **json.loads(json.dumps(offer)),
                    "name": name,
                }
            case "remove" if len(offers) > 2:
                del self.estate[key]
            case "rename":
                self.estate[f"{key}-r{self.serial}"] = self.estate.pop(key)
            case "placement":
                self.estate["placements/web"]["description"] = f"git revision {self.serial}"
            case "item":
                item = self.estate[rng.choice(("exd/coat", "exd/scarf"))]
                body = item["_experience"]["decisioning"]["decisionitem"]
                body["itemPriority"] = rng.randrange(0, 40)
                body["itemDescription"] = f"git revision {self.serial}"
            case "hero":
                hero = self.estate["exd/hero"]
                if "description" in hero and rng.random() < 0.3:
                    del hero["description"]
                else:
                    hero["description"] = f"git revision {self.serial}"
            case "ui-model":
                self.estate["exd/apparel"]["constraints"] = [
                    {"uiModel": ui_model(rng.choice(("apparel", "outerwear", "knitwear")))}
                ]
            case _:
                offer["rank"] = {"priority": rng.randrange(0, 40)}
        return choice


# --- the sandbox --------------------------------------------------------------------------------


@dataclasses.dataclass
class Run:
    """One seed's repository, emulator and figures."""

    seed: int
    honours_if_match: bool
    root: Path
    data: Path
    base: str
    figures: Figures

    @property
    def env(self) -> dict[str, str]:
        return {"ADOBE_CLIENT_ID": CLIENT, "ADOBE_CLIENT_SECRET": SECRET}

    def cli(self, *args: str) -> tuple[int, str]:
        """`reconciler -C repo ARGS` in-process (over HTTP to the served emulator)."""
        deps = commands.Dependencies(env=self.env)
        result = CliRunner().invoke(cli, ["-C", str(self.root), *args], obj=deps)
        # A command freezes what its bulk phases built (reconciler.memory): right for a process
        # that runs one command, a leak for this one, which runs hundreds.
        gc.unfreeze()
        gc.collect()
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    def control(self, settings: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(f"{self.base}/_emulator/control", json={"settings": settings})
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def client(self, client_id: str) -> api.Client:
        return api.Client(
            api.Endpoint(
                f"{self.base}/data/core/dps",
                f"{self.base}/ims/token/v3",
                ORG,
                "prod",
                SCHEMA,
            ),
            Credentials(client_id=client_id, client_secret="ui-secret"),
        )

    def ui(self, coroutine: Any) -> Any:
        async def main() -> Any:
            async with self.client(UI) as client:
                return await coroutine(client)

        return asyncio.run(main())

    def live(self) -> dict[Kind, list[dict[str, Any]]]:
        async def everything(client: api.Client) -> dict[Kind, list[dict[str, Any]]]:
            return {kind: await client.list_all(kind) for kind in Kind}

        return self.ui(everything)  # type: ignore[no-any-return]

    def state(self) -> dict[str, Any]:
        path = self.root / "state" / "chaos.json"
        return json.loads(path.read_text()) if path.exists() else {"objects": {}}

    def journal(self) -> list[dict[str, Any]]:
        lines = self.data.read_text().splitlines() if self.data.exists() else []
        return [json.loads(line) for line in lines if line.strip()]


@contextlib.contextmanager
def sandbox(seed: int, folder: Path, preconditions: str = "test") -> Iterator[Run]:
    honours = seed % 2 == 0
    root, data = folder / "repo", folder / "sandbox.jsonl"
    (root / "state").mkdir(parents=True)
    options = ["--control", "--data", str(data), "--seed", str(seed)]
    if not honours:
        options.append("--ignore-if-match")
    with served(*options, log=folder / "emulator.log") as base:
        (root / "reconciler.yaml").write_text(
            "default: chaos\nprune: true\nsandboxes:\n  chaos:\n"
            f"    endpoint: {base}/data/core/dps\n    ims: {base}/ims/token/v3\n"
            f"    org: {ORG}\n    name: prod\n    preconditions: {preconditions}\n"
            f"    decisioning: {{catalog: {CATALOG}, schema: {SCHEMA}, tenant: _reconciler}}\n"
            "ignore:\n  placement: [/description]\n"
        )
        yield Run(seed, honours, root, data, base, Figures(seeds=1))


# --- UI edits ------------------------------------------------------------------------------------


def ui_edits(run: Run, rng: random.Random) -> int:
    """Zero to two edits a marketer makes in the UI between rounds."""
    live = run.live()
    offers = live[Kind.PERSONALIZED_OFFER]
    count = rng.randrange(0, 3)
    for _ in range(count):
        target = rng.choice(offers)
        choice = rng.choice(
            ["priority", "description", "status", "labels", "delete", "placement", "exd"]
        )
        if choice == "exd":
            count += ui_edits_decisioning(run, live, rng) - 1
            continue
        if choice == "placement":
            kind, target = Kind.PLACEMENT, rng.choice(live[Kind.PLACEMENT])
            ops: list[dict[str, Any]] = [
                {"op": "add", "path": "/description", "value": f"UI {rng.random():.6f}"}
            ]
        else:
            kind = Kind.PERSONALIZED_OFFER
            ops = {
                "priority": [
                    {"op": "replace", "path": "/rank/priority", "value": rng.randrange(40, 99)}
                ],
                "description": [
                    {"op": "add", "path": "/description", "value": f"UI {rng.random():.6f}"}
                ],
                "status": [{"op": "replace", "path": "/status", "value": "draft"}],
                "labels": [{"op": "add", "path": "/labels", "value": ["core/C1"]}],
                "delete": [],
            }[choice]

        async def edit(
            client: api.Client,
            kind: Kind = kind,
            object_id: str = str(target["id"]),
            ops: list[dict[str, Any]] = ops,
        ) -> None:
            if ops:
                await client.patch(kind, object_id, ops, if_match=None)
            else:
                await client.delete(kind, object_id, if_match=None)

        with contextlib.suppress(api.ApiError):  # a guardrail or an object in use: the UI refuses
            run.ui(edit)
    return count


def ui_edits_decisioning(
    run: Run, live: dict[Kind, list[dict[str, Any]]], rng: random.Random
) -> int:
    """One edit a marketer makes to a Decisioning object: an item's priority (JSON Patch), the
    hero placement's description (PUT, as the UI's API does it), or the collection's rule (its
    stringified uiModel, spaced as a UI might write it)."""
    choice = rng.choice(["item", "hero", "ui-model"])
    items = {
        "item": live.get(Kind.DECISION_ITEM, []),
        "hero": live.get(Kind.EXD_PLACEMENT, []),
        "ui-model": live.get(Kind.ITEM_COLLECTION, []),
    }[choice]
    if not items:
        return 0
    target = rng.choice(items)
    object_id = str(target["id"])

    async def edit(client: api.Client) -> None:
        match choice:
            case "item":
                path = "/_experience/decisioning/decisionitem/itemPriority"
                ops = [{"op": "replace", "path": path, "value": rng.randrange(40, 99)}]
                await client.patch(Kind.DECISION_ITEM, object_id, ops, if_match=None)
            case "hero":
                body = {"description": f"UI {rng.random():.6f}"}
                await client.put(Kind.EXD_PLACEMENT, object_id, body, if_match=None)
            case _:
                text = json.dumps(ui_model(f"ui-{rng.randrange(100)}"))  # spaced: not canonical
                ops = [{"op": "replace", "path": "/constraints/0/uiModel", "value": text}]
                await client.patch(Kind.ITEM_COLLECTION, object_id, ops, if_match=None)

    with contextlib.suppress(api.ApiError):
        run.ui(edit)
    return 1


def ui_takes_a_name(run: Run, estate: dict[str, dict[str, Any]], rng: random.Random) -> int:
    """The UI creates an object under a name git is about to create (other content): the plan
    must adopt it, never create a second one."""
    live = {str(o.get("name")) for o in run.live()[Kind.PERSONALIZED_OFFER]}
    waiting = [
        document
        for document in estate.values()
        if document["kind"] == "personalized-offer" and document["name"] not in live
    ]
    if not waiting:
        return 0
    chosen = rng.choice(waiting)
    placement = next(iter(run.live()[Kind.PLACEMENT]))["id"]
    body = {
        "name": chosen["name"],
        "status": "draft",
        "representations": [
            {
                "channel": WEB,
                "placement": placement,
                "components": [{"type": "html", "format": "text/html", "content": "<p>ui</p>"}],
            }
        ],
        "selectionConstraint": {"profileConstraintType": "none"},
        "rank": {"priority": 1},
    }

    async def create(client: api.Client) -> None:
        await client.create(Kind.PERSONALIZED_OFFER, body, name=str(chosen["name"]))

    with contextlib.suppress(api.ApiError):
        run.ui(create)
    return 1


def second_clone(run: Run) -> None:
    """A second clone of the repository, with no state, applies the same commit."""
    clone = run.root.parent / "clone"
    shutil.rmtree(clone, ignore_errors=True)
    (clone / "state").mkdir(parents=True)
    shutil.copytree(run.root / "offers", clone / "offers")
    shutil.copy(run.root / "reconciler.yaml", clone / "reconciler.yaml")
    other = dataclasses.replace(run, root=clone)
    plan = clone / "plan.json"
    code, output = other.cli("plan", "--out", str(plan))
    if code != 0:
        raise Violation(f"seed {run.seed}: the second clone could not plan:\n{output}")
    since = len(run.journal())
    code, output = other.cli("apply", str(plan))
    check_writes(run, json.loads(plan.read_text()), since, run.journal())
    if code != 0 and "conflict" not in output:
        raise Violation(f"seed {run.seed}: the second clone's apply failed:\n{output}")


# --- the invariants ----------------------------------------------------------------------------


def check_writes(run: Run, plan: dict[str, Any], since: int, journal: list[dict[str, Any]]) -> None:
    """No write of the reconciler changed a value set by a UI edit its plan did not show."""
    planned = {c["id"]: c for c in plan.get("changes", []) if c.get("id")}
    history: dict[str, dict[int, dict[str, Any]]] = {}
    for entry in journal:
        obj = entry.get("object")
        if obj is not None:
            history.setdefault(obj["id"], {})[obj["etag"]] = obj
    for line, entry in enumerate(journal[since:], start=since + 1):
        obj = entry.get("object")
        who = obj["lastModifiedByClientId"] if obj else entry.get("deletedByClientId")
        if who != CLIENT or entry["op"] == "create":
            continue
        object_id = obj["id"] if obj else entry["id"]
        change = planned.get(object_id)
        if change is None or change.get("etag") is None:
            raise Violation(
                f"line {line}: {entry['op']} of {object_id}, which the plan does not plan"
            )
        run.figures.writes_checked += 1
        seen = int(change["etag"])
        revisions = history.get(object_id, {})
        if entry["op"] == "delete":
            last = int(entry["etag"])
            unseen = [revisions[e] for e in range(seen + 1, last + 1) if e in revisions]
            if unseen:
                _overwrote(run, line, object_id, "a delete", "(the object)", documented=True)
            continue
        after = obj["etag"]
        before = revisions.get(after - 1)
        if before is None:
            continue
        for etag in range(seen + 1, after):
            ui = revisions.get(etag)
            previous = revisions.get(etag - 1)
            if ui is None or previous is None or ui["lastModifiedByClientId"] == CLIENT:
                continue
            for step in diff.edit(previous["body"], ui["body"]):
                had, value_before = diff.lookup(before["body"], step.path)
                has, value_after = diff.lookup(obj["body"], step.path)
                if (had, value_before) != (has, value_after) or (
                    had and not diff.json_equal(value_before, value_after)
                ):
                    # A PUT cannot carry `test`s: its guard is the read and If-Match alone,
                    # for the top-level fields it sends (the ones its operations change).
                    put = change["kind"] == "exd-placement" and _top(step.path) in {
                        _top(op["path"]) for op in change.get("patch", []) if op["op"] != "test"
                    }
                    gap = step.path in change.get("unguarded", []) or put
                    _overwrote(run, line, object_id, "an update", step.path, documented=gap)


def _top(pointer: str) -> str:
    return pointer.split("/")[1] if pointer.count("/") else pointer


def _overwrote(
    run: Run, line: int, object_id: str, what: str, path: str, *, documented: bool
) -> None:
    if documented and not run.honours_if_match:
        run.figures.gaps += 1
        return
    run.figures.overwrites += 1
    raise Violation(
        f"seed {run.seed}: journal line {line}: {what} of {object_id} overwrote {path}, set by a "
        "UI edit the plan did not show"
    )


def check_sandbox(run: Run, estate: dict[str, dict[str, Any]]) -> None:
    """No duplicate, no lost id, every key managed."""
    live = run.live()
    names: dict[tuple[Kind, str], str] = {}
    ids = set()
    for kind, items in live.items():
        for item in items:
            ids.add(item["id"])
            name = (kind, str(name_of(kind, item)))
            if name in names:
                raise Violation(
                    f"seed {run.seed}: two {kind.value} objects named {name[1]!r}: {names[name]}, {item['id']}"
                )
            names[name] = item["id"]
    objects = run.state()["objects"]
    recorded = [entry.get("id") for entry in objects.values()]
    if len(recorded) != len(set(recorded)):
        raise Violation(f"seed {run.seed}: two keys in state share an id: {objects}")
    if sorted(objects) != sorted(estate):
        raise Violation(
            f"seed {run.seed}: state manages {sorted(objects)}, git defines {sorted(estate)}"
        )
    for key, entry in objects.items():
        if entry.get("id") not in ids:
            raise Violation(f"seed {run.seed}: {key} records {entry.get('id')}, which is not live")


# --- one seed ----------------------------------------------------------------------------------


def apply_subprocess(run: Run, plan: Path, rng: random.Random) -> int | None:
    """`apply plan.json` in its own process; SIGKILLed after a few state writes, sometimes."""
    command = [sys.executable, "-m", "reconciler.cli", "-C", str(run.root), "apply", str(plan)]
    env = {**os.environ, **run.env}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    kill_after = rng.randrange(1, 5) if rng.random() < 0.35 else None
    journal = run.root / "state" / "chaos.journal"
    deadline = time.monotonic() + 120
    while kill_after is not None and process.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(FileNotFoundError):
            if len(journal.read_bytes().splitlines()) >= kill_after:
                process.send_signal(signal.SIGKILL)
                process.communicate()
                run.figures.kills += 1
                return None
        time.sleep(0.002)
    output, _ = process.communicate(timeout=300)
    text = output.decode()
    if SECRET in text:
        raise Violation(f"seed {run.seed}: apply printed the client secret")
    for line in text.splitlines():
        if line.startswith("Apply: "):
            run.figures.conflicts += int(line.split(" conflict")[0].rsplit(", ", 1)[-1])
    return process.returncode


def one_seed(
    seed: int,
    rounds: int = ROUNDS,
    preconditions: str = "test",
    faults: dict[str, Any] | None = None,
) -> Figures:
    """One seed's rounds; raises Violation at the first invariant that does not hold."""
    rng = random.Random(seed)
    with (
        tempfile.TemporaryDirectory(prefix=f"chaos-{seed}-") as folder,
        sandbox(seed, Path(folder), preconditions) as run,
    ):
        git = Git(rng, initial_estate())
        write_estate(run.root, git.estate)
        code, output = run.cli("apply", "--auto-approve")
        if code != 0:
            raise Violation(f"seed {seed}: the first apply failed:\n{output}")
        for number in range(1, rounds + 1):
            run.figures.rounds += 1
            for _ in range(rng.randrange(1, 4)):
                git.edit()
                run.figures.git_edits += 1
            write_estate(run.root, git.estate)
            run.figures.ui_edits += ui_edits(run, rng)
            if rng.random() < 0.2:
                run.figures.ui_edits += ui_takes_a_name(run, git.estate, rng)
            if rng.random() < 0.1:
                second_clone(run)
            if rng.random() < 0.15:
                for name in ("chaos.json", "chaos.journal", "chaos.json.bak"):
                    (run.root / "state" / name).unlink(missing_ok=True)
                run.figures.lost_states += 1
            # With faults: a saved plan, applied in a subprocess that may be killed.
            run.control(FAULTS if faults is None else faults)
            plan_path = run.root / "plan.json"
            plan_path.unlink(missing_ok=True)
            code, output = run.cli("plan", "--out", str(plan_path))
            if code == 0:
                since = len(run.journal())
                apply_subprocess(run, plan_path, rng)
                check_writes(run, json.loads(plan_path.read_text()), since, run.journal())
            # Without faults: one clean apply converges.
            edits = run.control(CLEAN)["race_edits"]
            run.figures.raced_edits = edits
            clean = run.root / "clean.json"
            code, output = run.cli("plan", "--out", str(clean))
            if code != 0:
                raise Violation(f"seed {seed} round {number}: the clean plan failed:\n{output}")
            since = len(run.journal())
            code, output = run.cli("apply", str(clean))
            if code != 0:
                raise Violation(f"seed {seed} round {number}: the clean apply failed:\n{output}")
            check_writes(run, json.loads(clean.read_text()), since, run.journal())
            code, output = run.cli("plan", "--detailed-exitcode")
            if code != 0:
                raise Violation(f"seed {seed} round {number}: no convergence:\n{output}")
            code, output = run.cli("drift")
            if code != 0:
                raise Violation(f"seed {seed} round {number}: drift after a clean apply:\n{output}")
            check_sandbox(run, git.estate)
        return run.figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    total, failures = Figures(), []
    seeds = range(args.first, args.first + args.seeds)
    with concurrent.futures.ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(one_seed, seed, args.rounds): seed for seed in seeds}
        for future in concurrent.futures.as_completed(futures):
            try:
                total.add(future.result())
            except Exception as failure:  # a violation or a crash: both are findings
                failures.append(f"seed {futures[future]}: {failure}")
    print(
        f"chaos: {total.seeds} seeds, {total.rounds} rounds, {total.git_edits} git edits, "
        f"{total.ui_edits} UI edits, {total.raced_edits} UI edits racing listings and writes, "
        f"{total.kills} applies killed, {total.lost_states} state files lost, "
        f"{total.writes_checked} writes checked, {total.conflicts} conflicts reported, "
        f"overwrites: {total.overwrites}, JSON Patch gaps with If-Match ignored: {total.gaps}"
    )
    for failure in sorted(failures):
        print(f"FAIL {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
