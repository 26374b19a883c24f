"""Benchmark figures for the README: latency, throughput, memory, training time, NLU F1.

Starts its own stack on free ports (nothing needs to be running), so the
figures are whole-system numbers over real HTTP. Run with `make bench`.
Not a test: it asserts nothing, it prints one table against the targets.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.stack import ROOT, VENV_BIN, Stack  # noqa: E402


def percentile(values, pct):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def file_one(stack) -> str:
    sender = f"bench-{uuid.uuid4().hex}"
    post = lambda text: requests.post(stack.rest_webhook, json={"sender": sender, "message": text}, timeout=60).json()
    post("hay un bache en Insurgentes Sur 1602, col. Crédito Constructor, alcaldía Benito Juárez")
    reply = " ".join(m.get("text", "") for m in post("sí"))
    return reply.split("folio ")[1].split(".")[0]


def status_turn(stack, folio, session) -> float:
    """One REST turn that ends in a back-office call (status by folio)."""
    sender = f"bench-{uuid.uuid4().hex}"
    start = time.perf_counter()
    response = session.post(stack.rest_webhook, json={"sender": sender, "message": f"¿cómo va mi reporte {folio}?"}, timeout=60)
    elapsed = time.perf_counter() - start
    assert folio in response.text, response.text
    return elapsed


def measure_training() -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run(
            [str(VENV_BIN / "rasa"), "train", "--out", out, "--force"], cwd=ROOT, check=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - start


def measure_f1(model: str) -> float:
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [str(VENV_BIN / "rasa"), "test", "nlu", "--model", model, "--nlu", "tests/nlu", "--out", out, "--no-plot"],
            cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        return json.loads((Path(out) / "intent_report.json").read_text())["weighted avg"]["f1-score"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=100, help="single-stream turns")
    parser.add_argument("--concurrent-turns", type=int, default=240, help="turns across 8 concurrent conversations")
    parser.add_argument("--skip-training", action="store_true", help="don't time a full training run")
    args = parser.parse_args()

    model = subprocess.run([str(ROOT / "scripts" / "train.sh")], cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()[-1]
    model = str(ROOT / model)
    rows = []
    with tempfile.TemporaryDirectory() as workdir, Stack(model=model, workdir=Path(workdir)) as stack:
        folio = file_one(stack)
        session = requests.Session()
        for _ in range(10):  # warm-up
            status_turn(stack, folio, session)
        single = [status_turn(stack, folio, session) for _ in range(args.turns)]

        def worker(n):
            own = requests.Session()
            return [status_turn(stack, folio, own) for _ in range(n)]

        per_worker = args.concurrent_turns // 8
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(worker, [per_worker] * 8))
        wall = time.perf_counter() - start
        throughput = sum(len(r) for r in results) / wall
        memory_mb = stack.peak_rss_mb()

    rows.append(("turn latency p50 (single stream)", f"{statistics.median(single) * 1000:.0f} ms", "<= 80 ms"))
    rows.append(("turn latency p95 (single stream)", f"{percentile(single, 95) * 1000:.0f} ms", "<= 200 ms"))
    rows.append(("throughput, 8 concurrent conversations", f"{throughput:.1f} turns/s", ">= 25 turns/s"))
    rows.append(("peak memory, all processes", f"{memory_mb / 1024:.2f} GB", "<= 3 GB"))
    if not args.skip_training:
        rows.append(("training time (full, no cache)", f"{measure_training() / 60:.1f} min", "<= 10 min"))
    rows.append(("NLU intent F1 (held-out, weighted)", f"{measure_f1(model):.3f}", ">= 0.90"))

    width = max(len(r[0]) for r in rows)
    print(f"\n{'figure'.ljust(width)} | measured       | target")
    print(f"{'-' * width}-|----------------|---------------")
    for name, value, target in rows:
        print(f"{name.ljust(width)} | {value.ljust(14)} | {target}")


if __name__ == "__main__":
    main()
