"""A small literal estate the CLI tests write into a temp repository (independent of offers/)."""

from __future__ import annotations

from pathlib import Path

FILES: dict[str, str] = {
    "placements/web.yaml": """\
kind: placement
name: Web banner
description: Hero banner on the home page
componentType: html
channel: https://ns.adobe.com/xdm/channel-types/web
itemCount: 1
allowDuplicatePlacements: false
returnContent: true
""",
    "tags/summer.yaml": """\
kind: tag
name: Summer
""",
    "rules/gold.yaml": """\
kind: decision-rule
name: Gold members
condition:
  type: PQL
  format: pql/text
  value: profile.loyalty.tier.equals("gold", false)
""",
    "summer/sale.yaml": """\
kind: personalized-offer
name: Summer sale
status: approved
representations:
  - channel: https://ns.adobe.com/xdm/channel-types/web
    placement: {ref: placements/web}
    components:
      - type: html
        format: text/html
        language: [en-us]
        content: <p>60% off</p>
selectionConstraint:
  startDate: "2027-06-01T00:00:00.000Z"
  endDate: "2027-08-31T23:59:59.000Z"
  profileConstraintType: eligibilityRule
  eligibilityRule: {ref: rules/gold}
rank:
  priority: 5
tags:
  - {ref: tags/summer}
""",
    "summer/fallback.yaml": """\
kind: fallback-offer
name: Everyone gets free shipping
status: approved
representations:
  - channel: https://ns.adobe.com/xdm/channel-types/web
    placement: {ref: placements/web}
    components:
      - type: html
        format: text/html
        content: <p>Free shipping</p>
""",
    "summer/collection.yaml": """\
kind: collection
name: Summer offers
filterType: any-tags
ids:
  - {ref: tags/summer}
""",
    "summer/decision.yaml": """\
kind: decision
name: Home page summer
status: live
startDate: "2027-06-01T00:00:00.000Z"
endDate: "2027-08-31T23:59:59.000Z"
fallback: {ref: summer/fallback}
criteria:
  - placements:
      - {ref: placements/web}
    rank:
      priority: 0
    optionSelection:
      filter: {ref: summer/collection}
""",
}

KEYS = sorted(name.rsplit(".", 1)[0] for name in FILES)


def write(root: Path, files: dict[str, str] | None = None) -> None:
    offers = root / "offers"
    for name, text in (files or FILES).items():
        path = offers / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
