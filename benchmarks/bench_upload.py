"""Upload of a ~50 MB binary STL (1,048,576 triangles) through the design use case
on the embedded defaults (SQLite, local blob store, the real file inspector).

Prints the wall time split into inspection (mesh analysis) and storing, and the
peak resident memory: once for the blob store's streaming put alone (which should
stay flat, independent of the file size) and once for the whole upload, where the
mesh analysis holds the triangle arrays in memory (about 12 bytes per vertex
coordinate in float64: the analysis is bounded by the upload size limit).
Each measurement runs in a fresh subprocess so peak RSS is its own.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEGMENTS, PROFILE = 2048, 256  # 2 * 2048 * 256 = 1,048,576 triangles ~ 50 MB


def rss_mb() -> float:
    """Peak resident memory of this process (VmHWM; ru_maxrss would inherit the parent's peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make(stl: str) -> None:
    from caratzon_adapters.cad.generate import binary_stl, ring_mesh

    Path(stl).write_bytes(binary_stl(ring_mesh(7, segments=SEGMENTS, profile_segments=PROFILE)))


def child(mode: str, stl: str, data_dir: str) -> None:
    import os

    os.environ["CARATZON_PASSWORD_HASHING"] = "fast"
    from datetime import date

    from caratzon_adapters.bootstrap import bootstrap
    from caratzon_adapters.config import Config
    from caratzon_core.access import Actor
    from caratzon_core.privacy import INITIAL_POLICY_VERSION
    from caratzon_core.services.accounts import SignUp
    from caratzon_core.services.designs import DesignInput, Upload

    config = Config.from_env({}, data_dir=Path(data_dir), secret_key="b" * 40, password_hashing="fast")
    services = bootstrap(config, migrate=True)
    base = rss_mb()
    out: dict[str, float] = {"baseline_rss_mb": round(base, 1)}
    if mode == "store":
        t = time.perf_counter()
        with open(stl, "rb") as f:
            services.blobs.put("bench/stream.stl", f, content_type="model/stl", max_bytes=200 * 2**20)
        out["seconds"] = round(time.perf_counter() - t, 3)
    else:
        user = services.accounts.create_user(Actor.cli_operator(), SignUp(
            email="bench@example.com", password="Sapphire-Orchard-Lantern-74", name="Bench", role="designer",
            date_of_birth=date(1980, 1, 1), accept_policy_version=INITIAL_POLICY_VERSION))
        actor = services.accounts.actor_for(user)
        design = services.designs.create(actor, DesignInput(title="Bench ring", category="ring"))
        t = time.perf_counter()
        asset = services.designs.add_asset(actor, design.id, Upload("bench.stl", Path(stl), "cad", "production"))
        out["seconds"] = round(time.perf_counter() - t, 3)
        assert asset.analysis is not None
        out["analysis"] = asset.analysis.status.value  # type: ignore[assignment]
    out["peak_rss_mb"] = round(rss_mb(), 1)
    out["growth_mb"] = round(rss_mb() - base, 1)
    services.close()
    print(json.dumps(out))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="caratzon-bench-") as tmp:
        stl = Path(tmp) / "big.stl"
        # Made in a child so this parent stays small (children inherit nothing big).
        subprocess.run([sys.executable, __file__, "--make", str(stl)], check=True)
        size_mb = stl.stat().st_size / 2**20
        print(f"STL: {size_mb:.1f} MB, {2 * SEGMENTS * PROFILE:,} triangles")
        for mode in ("store", "upload"):
            data_dir = Path(tmp) / mode
            result = subprocess.run([sys.executable, __file__, "--child", mode, str(stl), str(data_dir)],
                                    capture_output=True, text=True, check=True)
            figures = json.loads(result.stdout.strip().splitlines()[-1])
            label = "blob store put alone" if mode == "store" else "whole upload (inspect + store + row)"
            print(f"{label}: {figures}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--make":
        make(sys.argv[2])
    elif len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
