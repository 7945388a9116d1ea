"""Name pools for the synthetic population: persons (Faker's zh_CN lists, sampled with numpy),
communities and villages, estates and roads.

Faker is used only for its word lists; nothing here calls Faker per person.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from faker.providers.person.zh_CN import Provider as _ZhPerson


@lru_cache(maxsize=1)
def person_name_pools() -> dict[str, Any]:
    """Last names with Faker's weights (normalised) and the male/female first names."""
    last = list(_ZhPerson.last_names.keys())
    weights = np.array(list(_ZhPerson.last_names.values()), dtype=np.float64)
    return {
        "last": last,
        "last_p": weights / weights.sum(),
        "first_male": list(_ZhPerson.first_names_male),
        "first_female": list(_ZhPerson.first_names_female),
    }


# Stems for community (社区) names: first and second characters.
_COMMUNITY_A = list(
    "东西南北中新华兴和安康龙凤青红金桃李柳梅荷兰竹松永丰富光明湖滨望盛景云星清翠丽博"
)
_COMMUNITY_B = list("苑园华新景安宁和康丰泰盛城湖港林山阳庭馨桥河苑坊里")
# Village (村) names: a surname or a place character, then a Jiangnan place element.
_VILLAGE_A = list("王李张刘陈杨黄吴周徐孙朱马胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾沈蒋蔡")
_VILLAGE_A += list("新东西南北石高大小前后上下横长桃柳")
_VILLAGE_B = list("家庄桥塘墅巷浜埭圩港湾溪岗墩舍宅村")
_ESTATE_SUFFIX = ["花园", "新村", "小区", "家园", "苑", "公寓", "嘉园", "名邸"]
_ROAD_SUFFIX = ["路", "街", "大道", "路", "路"]


def _pairs(a: list[str], b: list[str]) -> list[str]:
    return [x + y for x in a for y in b if x != y]


@lru_cache(maxsize=1)
def _community_stems() -> tuple[list[str], list[str]]:
    return _pairs(_COMMUNITY_A, _COMMUNITY_B), _pairs(_VILLAGE_A, _VILLAGE_B)


def community_names(rng: np.random.Generator, count: int, villages: np.ndarray) -> list[str]:
    """``count`` distinct names for one town; ``villages[i]`` makes the i-th a 「XX村」."""
    streets, rural = _community_stems()
    s_pick = rng.choice(len(streets), size=count, replace=False)
    v_pick = rng.choice(len(rural), size=count, replace=False)
    return [
        (rural[v] + "村") if village else (streets[s] + "社区")
        for s, v, village in zip(s_pick.tolist(), v_pick.tolist(), villages.tolist(), strict=True)
    ]


def estate_and_road_names(rng: np.random.Generator, count: int) -> tuple[list[str], list[str]]:
    """``count`` estate names (XX花园) and road names (XX路)."""
    streets, _ = _community_stems()
    e_stem = rng.integers(0, len(streets), size=count)
    e_suf = rng.integers(0, len(_ESTATE_SUFFIX), size=count)
    r_stem = rng.integers(0, len(streets), size=count)
    r_suf = rng.integers(0, len(_ROAD_SUFFIX), size=count)
    estates = [streets[i] + _ESTATE_SUFFIX[j] for i, j in zip(e_stem, e_suf, strict=True)]
    roads = [streets[i] + _ROAD_SUFFIX[j] for i, j in zip(r_stem, r_suf, strict=True)]
    return estates, roads
