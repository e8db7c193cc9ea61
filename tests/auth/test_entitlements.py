"""Entitlement parsing and matching with values as EGI Check-in sends them."""

from __future__ import annotations

import pytest

from domains.common.entitlements import (
    VoMembership,
    claims_entitlements,
    entitlement_matches,
    parse_entitlements,
)

# A Check-in userinfo `eduperson_entitlement` as it looks in 2026: groups with roles,
# a capability, GOCDB roles and the legacy membership form.
CHECKIN = [
    "urn:mace:egi.eu:group:fedcloud.egi.eu:role=member#aai.egi.eu",
    "urn:mace:egi.eu:group:fedcloud.egi.eu:role=vm_operator#aai.egi.eu",
    "urn:mace:egi.eu:group:fedcloud.egi.eu:sub1:sub2:role=member#aai.egi.eu",
    "urn:mace:egi.eu:group:vo.access.egi.eu:role=member#aai.egi.eu",
    "urn:mace:egi.eu:group:vo.notebooks.egi.eu:role=member#aai.egi.eu",
    "urn:mace:egi.eu:group:vo.notebooks.egi.eu:admins:role=manager#aai.egi.eu",
    "urn:mace:egi.eu:res:gocdb#aai.egi.eu",
    "urn:mace:egi.eu:goc.egi.eu:100453G0:GRNET-NGI:Site+Administrator@egi.eu",
    "urn:mace:egi.eu:aai.egi.eu:member@ops",
    "urn:mace:egi.eu:aai.egi.eu:vm_operator@ops",
]


def test_parse_checkin_userinfo() -> None:
    vos = parse_entitlements(CHECKIN)
    assert set(vos) == {"fedcloud.egi.eu", "vo.access.egi.eu", "vo.notebooks.egi.eu", "ops"}
    assert vos["fedcloud.egi.eu"] == VoMembership(
        name="fedcloud.egi.eu",
        roles=frozenset({"member", "vm_operator"}),
        groups=frozenset({"fedcloud.egi.eu:sub1", "fedcloud.egi.eu:sub1:sub2"}),
    )
    assert vos["vo.access.egi.eu"].roles == {"member"}
    assert vos["vo.access.egi.eu"].groups == frozenset()
    # a role on a subgroup is not a role on the VO
    assert vos["vo.notebooks.egi.eu"].roles == {"member"}
    assert vos["vo.notebooks.egi.eu"].groups == {"vo.notebooks.egi.eu:admins"}
    # legacy form
    assert vos["ops"].roles == {"member", "vm_operator"}


def test_value_without_role_means_member() -> None:
    vos = parse_entitlements(["urn:mace:egi.eu:group:vo.example.org#aai.egi.eu"])
    assert vos["vo.example.org"].roles == {"member"}


def test_subgroup_only_still_makes_a_member_of_the_vo() -> None:
    vos = parse_entitlements(["urn:mace:egi.eu:group:biomed:lab-a:role=member#aai.egi.eu"])
    assert vos == {
        "biomed": VoMembership("biomed", frozenset({"member"}), frozenset({"biomed:lab-a"}))
    }


def test_role_only_value_implies_membership() -> None:
    vos = parse_entitlements(["urn:mace:egi.eu:group:biomed:role=vm_operator#aai.egi.eu"])
    assert vos["biomed"].roles == {"member", "vm_operator"}


def test_nid_and_namespace_are_case_insensitive() -> None:
    vos = parse_entitlements(
        [
            "URN:MACE:EGI.EU:group:eosc-synergy.eu:role=member#aai.egi.eu",
            "Urn:Mace:Egi.Eu:aai.egi.eu:manager@eosc-synergy.eu",
        ]
    )
    assert vos["eosc-synergy.eu"].roles == {"member", "manager"}


def test_names_keep_their_case() -> None:
    vos = parse_entitlements(["urn:mace:egi.eu:group:VO.Example:role=Manager#aai.egi.eu"])
    assert vos["VO.Example"].roles == {"member", "Manager"}


def test_segments_are_percent_decoded_after_splitting() -> None:
    vos = parse_entitlements(
        [
            "urn:mace:egi.eu:group:vo.example.org:Gr%C3%BCne:role=data%20steward#aai.egi.eu",
            "urn:mace:egi.eu:group:vo.example.org:a%3Ab:role=member#aai.egi.eu",
        ]
    )
    assert vos["vo.example.org"].groups == {"vo.example.org:Grüne", "vo.example.org:a:b"}
    assert vos["vo.example.org"].roles == {"member"}  # data steward is on the subgroup


def test_authority_is_ignored() -> None:
    a = parse_entitlements(["urn:mace:egi.eu:group:ops:role=member#aai.egi.eu"])
    b = parse_entitlements(["urn:mace:egi.eu:group:ops:role=member#aai-dev.egi.eu"])
    c = parse_entitlements(["urn:mace:egi.eu:group:ops:role=member"])
    assert a == b == c


@pytest.mark.parametrize(
    "value",
    [
        "urn:mace:egi.eu:res:gocdb#aai.egi.eu",
        "urn:mace:egi.eu:res:rcauth:act:issue#aai.egi.eu",
        "urn:mace:egi.eu:goc.egi.eu:100453G0:GRNET-NGI:Site+Administrator@egi.eu",
        "urn:geant:h-df.de:group:aai-admin:role=member#unity.helmholtz-data-federation.de",
        "urn:mace:egi.eu:group::role=member#aai.egi.eu",
        "urn:mace:egi.eu:group:ops::sub:role=member#aai.egi.eu",
        "urn:mace:egi.eu:group:ops:role=#aai.egi.eu",
        "urn:mace:egi.eu:group:ops:role=admin:sub#aai.egi.eu",
        "urn:mace:egi.eu:aai.egi.eu:@ops",
        "urn:mace:egi.eu:aai.egi.eu:member@",
        "urn:mace:egi.eu:aai.egi.eu:member",
        "mace:egi.eu:group:ops:role=member#aai.egi.eu",
        "ops",
        "",
    ],
)
def test_non_group_values_are_ignored(value: str) -> None:
    assert parse_entitlements([value]) == {}


def test_namespaces_are_configurable() -> None:
    value = "urn:geant:h-df.de:group:aai-admin:role=member#unity.helmholtz-data-federation.de"
    vos = parse_entitlements([value, CHECKIN[0]], namespaces=("urn:geant:h-df.de",))
    assert set(vos) == {"aai-admin"}
    both = parse_entitlements(
        [value, CHECKIN[0]], namespaces=("urn:geant:h-df.de", "urn:mace:egi.eu")
    )
    assert set(both) == {"aai-admin", "fedcloud.egi.eu"}


# -- matching ------------------------------------------------------------------------------

G = "urn:mace:egi.eu:group:"


@pytest.mark.parametrize(
    ("held", "required", "expected"),
    [
        # equality, ignoring the authority, with case-insensitive NID/namespace
        (G + "ops:role=member#aai.egi.eu", G + "ops:role=member#aai.egi.eu", True),
        (G + "ops:role=member#aai.egi.eu", G + "ops:role=member#other.authority", True),
        (G + "ops:role=member", G + "ops:role=member#aai.egi.eu", True),
        ("URN:MACE:EGI.EU:group:ops:role=member#x", G + "ops:role=member#aai.egi.eu", True),
        # group and role names are case-sensitive
        (G + "OPS:role=member#aai.egi.eu", G + "ops:role=member#aai.egi.eu", False),
        (G + "ops:role=Manager#aai.egi.eu", G + "ops:role=manager#aai.egi.eu", False),
        # roles
        (G + "ops:role=member#aai.egi.eu", G + "ops:role=vm_operator#aai.egi.eu", False),
        (G + "ops:role=vm_operator#aai.egi.eu", G + "ops:role=vm_operator#aai.egi.eu", True),
        (G + "ops:role=vm_operator#aai.egi.eu", G + "ops#aai.egi.eu", True),
        (G + "ops#aai.egi.eu", G + "ops:role=member#aai.egi.eu", True),
        (G + "ops#aai.egi.eu", G + "ops:role=manager#aai.egi.eu", False),
        # subgroups: membership carries up, other roles do not
        (G + "ops:sub:role=member#aai.egi.eu", G + "ops#aai.egi.eu", True),
        (G + "ops:sub:deeper:role=member#aai.egi.eu", G + "ops:role=member#aai.egi.eu", True),
        (G + "ops:sub:deeper#aai.egi.eu", G + "ops:sub#aai.egi.eu", True),
        (G + "ops:sub:role=manager#aai.egi.eu", G + "ops:role=manager#aai.egi.eu", False),
        (G + "ops:sub:role=manager#aai.egi.eu", G + "ops:sub:role=manager#aai.egi.eu", True),
        (G + "ops:role=member#aai.egi.eu", G + "ops:sub#aai.egi.eu", False),
        (G + "ops:sub:role=member#aai.egi.eu", G + "ops:other#aai.egi.eu", False),
        (G + "opsx:role=member#aai.egi.eu", G + "ops#aai.egi.eu", False),
        # legacy form on either side
        ("urn:mace:egi.eu:aai.egi.eu:vm_operator@ops", G + "ops:role=vm_operator#aai.egi.eu", True),
        (G + "ops:role=member#aai.egi.eu", "urn:mace:egi.eu:aai.egi.eu:member@ops", True),
        ("urn:mace:egi.eu:aai.egi.eu:member@ops", G + "ops:role=vm_operator#aai.egi.eu", False),
        # namespaces must agree
        ("urn:geant:h-df.de:group:ops:role=member#x", G + "ops:role=member#aai.egi.eu", False),
        (
            "urn:geant:h-df.de:group:aai-admin:special-admins#a",
            "urn:geant:h-df.de:group:aai-admin#b",
            True,
        ),
        # capabilities compare whole, authority aside
        ("urn:mace:egi.eu:res:gocdb#aai.egi.eu", "urn:mace:egi.eu:res:gocdb#aai.egi.eu", True),
        ("URN:Mace:EGI.eu:res:gocdb#aai-demo.egi.eu", "urn:mace:egi.eu:res:gocdb#aai.egi.eu", True),
        ("urn:mace:egi.eu:res:GOCDB#aai.egi.eu", "urn:mace:egi.eu:res:gocdb#aai.egi.eu", False),
        ("urn:mace:egi.eu:res:gocdb:sub#aai.egi.eu", "urn:mace:egi.eu:res:gocdb#aai.egi.eu", False),
        ("urn:mace:egi.eu:res:a%2fb#x", "urn:mace:egi.eu:res:a%2Fb#y", True),
        # groups and capabilities never stand in for each other
        (G + "gocdb:role=member#aai.egi.eu", "urn:mace:egi.eu:res:gocdb#aai.egi.eu", False),
        ("urn:mace:egi.eu:res:ops#aai.egi.eu", G + "ops#aai.egi.eu", False),
    ],
)
def test_entitlement_matches(held: str, required: str, expected: bool) -> None:
    assert entitlement_matches([held], required) is expected


def test_matches_any_of_many() -> None:
    assert entitlement_matches(CHECKIN, G + "fedcloud.egi.eu:sub1#aai.egi.eu")
    assert entitlement_matches(CHECKIN, G + "vo.notebooks.egi.eu:admins:role=manager#x")
    assert not entitlement_matches(CHECKIN, G + "vo.notebooks.egi.eu:role=manager#x")
    assert not entitlement_matches([], G + "ops#aai.egi.eu")


# -- claims --------------------------------------------------------------------------------


def test_claims_entitlements_reads_both_claims() -> None:
    claims = {
        "entitlements": [CHECKIN[0], CHECKIN[3]],
        "eduperson_entitlement": [CHECKIN[3], CHECKIN[1], 42],
    }
    assert claims_entitlements(claims) == [CHECKIN[0], CHECKIN[3], CHECKIN[1]]


def test_claims_entitlements_accepts_a_single_string() -> None:
    assert claims_entitlements({"eduperson_entitlement": CHECKIN[0]}) == [CHECKIN[0]]
    assert claims_entitlements({"entitlements": CHECKIN[1], "eduperson_entitlement": ""}) == [
        CHECKIN[1]
    ]
    assert claims_entitlements({"sub": "x@egi.eu", "entitlements": None}) == []
