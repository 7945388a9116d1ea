"""Entities of the policy package: a person and the household (救助家庭) they belong to.

A policy officer's YAML test reads ``households: {h1: {members: [p1, p2]}}``: the one role has
the key ``member`` and the plural ``members`` (OpenFisca accepts the plural in situations).
"""

from __future__ import annotations

from openfisca_core.entities import build_entity

Person = build_entity(
    key="person",
    plural="persons",
    label="个人 (person)",
    doc="A member of a household applying for or receiving social assistance.",
    is_person=True,
)

Household = build_entity(
    key="household",
    plural="households",
    label="家庭 (household)",
    doc=(
        "The household whose economic situation is assessed together (共同生活的家庭成员), "
        "as defined by 民发〔2021〕57号 art. 6."
    ),
    roles=[
        {
            "key": "member",
            "plural": "members",
            "label": "家庭成员 (member)",
            "doc": "Every member counts in the household size n and in its income.",
        },
    ],
)

entities = [Household, Person]
