"""Every kernel case of ../shared/oracle matches, built from its spec with engine.build."""
import pytest

import engine


def _kernel_cases():
    import json
    import os

    from tests.conftest import ORACLE_DIR
    path = os.path.join(ORACLE_DIR, "cases.json")
    if not os.path.exists(path):
        return []
    return [c["name"] for c in json.load(open(path))["cases"] if c["kind"] == "kernel"]


@pytest.mark.parametrize("name", _kernel_cases())
def test_kernel_case_matches_oracle(oracle, name):
    case = oracle.case(name)
    x1, x2 = oracle.array(case, "x1"), oracle.array(case, "x2")
    kernel_fn = engine.build(case["arch"]).kernel_fn
    k11 = kernel_fn(x1, None, get=("nngp", "ntk"))
    k12 = kernel_fn(x1, x2, get=("nngp", "ntk"))
    mine = {"nngp_11": k11.nngp, "ntk_11": k11.ntk, "nngp_12": k12.nngp, "ntk_12": k12.ntk}
    result = oracle.compare(case, mine)
    bad = {field: err for field, (err, ok) in result.items() if not ok}
    assert not bad, f"{name}: {bad}"


def test_oracle_cases_are_found(oracle):
    assert len(_kernel_cases()) >= 30
