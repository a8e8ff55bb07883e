"""Test-wide configuration: float64 JAX (set here and in app/main.py only) and the oracle."""
import os
import sys

import jax
import pytest

jax.config.update("jax_enable_x64", True)

ORACLE_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "oracle")


@pytest.fixture(scope="session")
def oracle():
    """The neural-tangents reference values in ../shared/oracle, or a clean skip."""
    if not os.path.exists(os.path.join(ORACLE_DIR, "cases.json")):
        pytest.skip("../shared/oracle is absent")
    sys.path.insert(0, os.path.abspath(ORACLE_DIR))
    from oracle_io import Oracle

    return Oracle()
