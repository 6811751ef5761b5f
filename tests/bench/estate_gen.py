"""Generated estates for the benchmarks: one placement, ten tags and N personalized offers."""

from __future__ import annotations

from pathlib import Path

CONFIG = "default: local\nsandboxes:\n  local:\n    endpoint: embedded\n"

PLACEMENT = """\
kind: placement
name: Bench banner
componentType: html
channel: https://ns.adobe.com/xdm/channel-types/web
itemCount: 1
"""

TAG = "kind: tag\nname: Bench tag {n}\n"

OFFER = """\
kind: personalized-offer
name: Bench offer {n:05d}
description: Generated offer {n} for the benchmark, with a realistic amount of content.
status: approved
representations:
  - channel: https://ns.adobe.com/xdm/channel-types/web
    placement: {{ref: placements/banner}}
    components:
      - type: html
        format: text/html
        language: [en-us]
        content: "<div class='offer'><h2>Offer {n}</h2><p>{percent}% off everything this week.</p></div>"
selectionConstraint:
  startDate: "2027-01-01T00:00:00.000Z"
  endDate: "2027-12-31T23:59:59.000Z"
  profileConstraintType: none
rank:
  priority: {priority}
tags:
  - {{ref: tags/t{tag}}}
characteristics:
  sku: "SKU-{n:05d}"
  region: emea
frequencyCappingConstraints:
  - enabled: true
    limit: 3
    startDate: "2027-01-01T00:00:00.000Z"
    endDate: "2027-12-31T23:59:59.000Z"
    scope: profile
    entity: offer
    repeat:
      enabled: true
      unit: week
      unitCount: 1
"""


def write(root: Path, count: int, priority: int = 1) -> list[Path]:
    """A repository with `count` offers; returns the offer files."""
    (root / "offers" / "placements").mkdir(parents=True, exist_ok=True)
    (root / "offers" / "tags").mkdir(parents=True, exist_ok=True)
    (root / "offers" / "bench").mkdir(parents=True, exist_ok=True)
    (root / "state").mkdir(exist_ok=True)
    (root / "reconciler.yaml").write_text(CONFIG)
    (root / "offers" / "placements" / "banner.yaml").write_text(PLACEMENT)
    for n in range(10):
        (root / "offers" / "tags" / f"t{n}.yaml").write_text(TAG.format(n=n))
    files = []
    for n in range(count):
        path = root / "offers" / "bench" / f"offer-{n:05d}.yaml"
        path.write_text(OFFER.format(n=n, percent=10 + n % 60, priority=priority, tag=n % 10))
        files.append(path)
    return files


def bump_priority(files: list[Path], old: int, new: int) -> None:
    for path in files:
        text = path.read_text()
        path.write_text(text.replace(f"priority: {old}\n", f"priority: {new}\n"))
