"""The docker-compose.yml topology without Docker (issue 13, item 6): proves the wiring where no engine exists.

What Compose would start, started here: a Ray cluster whose head has no CPUs of its own and one worker node
(ray-head and ray-worker; Ray's own ``cluster_utils.Cluster`` runs the same node processes as ``ray start``,
and only ours are stopped afterwards), a PostgreSQL server (postgres; tests/postgres.py) and ``mlagent serve``
configured by the variables deploy/postgres.env and deploy/ray.env set (MLAGENT_DATABASE_URL,
MLAGENT_SANDBOX_BACKEND=ray, RAY_ADDRESS). A chat turn must land in PostgreSQL, and a smoke run must train on
the Ray worker (the head has no CPU to run it on) and be recorded with the ray backend.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.conftest import start_server
from tests.deploy.test_compose import DEPLOY_DIR, read_env_file
from tests.postgres import PostgresServer, find_bindir
from tests.smoke.conftest import TINY_MODULE

pytestmark = pytest.mark.slow

RUN_DEADLINE_S = 240.0
FINAL = {"succeeded", "failed", "timeout", "oom", "cancelled", "rejected"}


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    bindir = find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found: install Debian's 'postgresql' package")
    with PostgresServer(bindir) as server:
        yield server.url


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    pytest.importorskip("ray")
    from ray._common import utils as ray_utils
    from ray.cluster_utils import Cluster

    node: dict[str, Any] = {
        "num_gpus": 0,
        "object_store_memory": 128 * 1024 * 1024,
        "include_dashboard": False,
    }
    # ray-head: schedules only (no CPUs), so a run can only land on the worker added below
    cluster = Cluster(initialize_head=True, head_node_args={**node, "num_cpus": 0})
    # Cluster writes its address to /tmp/ray/ray_current_cluster, where any `ray.init()` on this machine would
    # find and join it (another test run's private Ray included); the API is given RAY_ADDRESS instead.
    address_file = Path(ray_utils.get_ray_address_file(None))
    if address_file.is_file() and address_file.read_text().strip() == cluster.address:
        address_file.unlink()
    try:
        cluster.add_node(**node, num_cpus=1)  # ray-worker
        cluster.wait_for_nodes()
        yield cluster.address
    finally:
        cluster.shutdown()


def ray_driver_pids(address: str) -> set[int]:
    """Process ids of the live drivers connected to the cluster at ``address``."""
    import ray
    from ray._private import state

    ray.init(address=address, log_to_driver=False)
    try:
        return {int(job["DriverPid"]) for job in state.jobs() if not job["IsDead"]}
    finally:
        ray.shutdown()


def test_the_compose_topology_runs_without_docker(
    tmp_path: Path, postgres_url: str, ray_address: str
) -> None:
    env = {**read_env_file(DEPLOY_DIR / "postgres.env"), **read_env_file(DEPLOY_DIR / "ray.env")}
    # The same variables, pointing at this machine's services instead of the Compose service names.
    env |= {
        "MLAGENT_DATABASE_URL": postgres_url,
        "RAY_ADDRESS": ray_address,
        "MLAGENT_SMOKE_CONCURRENCY": "1",
    }
    env.pop("POSTGRES_PASSWORD")  # read by the postgres image, not by the API
    assert env["MLAGENT_SANDBOX_BACKEND"] == "ray"
    server = start_server(tmp_path / "data", env, timeout_s=120)
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            ready = http.get("/readyz")
            assert ready.status_code == 200, ready.text

            turn = http.post("/v1/chat", json={"message": "hello", "thread_id": "compose-topology"})
            assert turn.status_code == 200, turn.text

            submitted = http.post("/v1/smoke-runs", json={"files": {"model.py": TINY_MODULE}, "steps": 3})
            assert submitted.status_code == 202, submitted.text
            run_id = submitted.json()["id"]
            deadline = time.monotonic() + RUN_DEADLINE_S
            while (run := http.get(f"/v1/smoke-runs/{run_id}").json())["status"] not in FINAL:
                assert time.monotonic() < deadline, (run, server.log()[-3000:])
                time.sleep(0.5)
            assert run["status"] == "succeeded", (run, server.log()[-3000:])
            assert len(run["losses"]) == 3
            experiment = http.get(f"/v1/experiments/{run['experiment_id']}").json()
            assert experiment["environment"]["backend"] == "ray", experiment["environment"]
            # ...and the API's Ray driver is one of this cluster's jobs (not a private Ray of its own)
            assert server.process.pid in ray_driver_pids(ray_address), server.log()[-3000:]
    finally:
        server.stop()

    with psycopg.connect(postgres_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM checkpoints WHERE thread_id = %s", ("compose-topology",)
        ).fetchone()
    assert row is not None and row[0] >= 1  # the thread lives in PostgreSQL, not in the data dir's SQLite
    assert not (tmp_path / "data" / "threads.sqlite").exists()
