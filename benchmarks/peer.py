"""neural-tangents 0.6.5 beside our engine: run its bench.py in its own venv, print tables.

The venv is NT_VENV (default ~/.cache/nt-peer-venv), built by
../shared/peers/neural_tangents/setup.sh. ``platform_line()`` is the first line every
benchmark script prints: the JAX platform and devices its numbers were measured on.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(HERE, "..", "..", "shared", "peers", "neural_tangents", "bench.py")
VENV = os.environ.get("NT_VENV", os.path.expanduser("~/.cache/nt-peer-venv"))


def platform_line() -> str:
    """JAX's version, backend and devices, the CPU count and the 1-minute load average."""
    import jax

    devices = ", ".join(f"{d.platform}:{d.id} ({d.device_kind})" for d in jax.devices())
    return (f"JAX {jax.__version__} on platform {jax.default_backend()}, devices [{devices}], "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")


def available() -> bool:
    return os.path.exists(os.path.join(VENV, "bin", "python"))


def median_seconds(name: str, repeats: int) -> float | None:
    """The median time of bench.py's workload ``name`` in neural-tangents' venv."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "nt.json")
        cmd = [os.path.join(VENV, "bin", "python"), BENCH, "--repeats", str(repeats),
               "--only", name, "--out", out]
        subprocess.run(cmd, check=True, capture_output=True, cwd=tmp)
        results = [r for r in json.load(open(out))["results"] if r["name"] == name]
        return results[0]["median_s"] if results else None


def table(rows, extra: str = "") -> None:
    """A markdown table of (workload, ours, theirs[, extra value]) rows, with the ratio."""
    print()
    print("| workload | ours median s | neural-tangents median s | ratio ours/nt |"
          + (f" {extra} |" if extra else ""))
    print("|---|---|---|---|" + ("---|" if extra else ""))
    for name, ours, theirs, *more in rows:
        cells = [f"{ours:.3f}", f"{theirs if theirs else float('nan'):.3f}",
                 f"{(ours / theirs) if theirs else float('nan'):.2f}"]
        cells += [f"{value:.2f}" for value in more]
        print(f"| {name} | " + " | ".join(cells) + " |")
    if not available():
        print(f"(neural-tangents venv not found at {VENV}: run "
              "../shared/peers/neural_tangents/setup.sh)")
