"""The benchmark's results as Markdown tables, and the targets of issue 6 checked against them."""

from __future__ import annotations

import os
from typing import Any

# Issue 6's targets on this machine, all measured in the same run.
LARGE_RATIO = 2.0
TINY_RATIO = 5.0
PEAK_RSS_MIB = 150.0
# Quality "at least the baseline's": PSNR within measurement rounding of the naive path.
PSNR_TOLERANCE_DB = 0.1


def print_report(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Print every section that ran; return each target with its value and whether it is met."""
    environment = results["environment"]
    print(f"\n# resizeq benchmark ({results['mode']}): {environment['cpus']} CPUs, "
          f"Python {environment['python']}, Pillow {environment['pillow']}, "
          f"libvips {environment.get('libvips', 'absent')}, RabbitMQ {environment['rabbitmq']}")
    targets: dict[str, dict[str, Any]] = {}
    if "kernel" in results:
        targets.update(_kernel(results["kernel"]))
    if "steps" in results:
        _steps(results["steps"])
    if "e2e" in results:
        targets.update(_e2e(results["e2e"]))
    if "limits" in results:
        _limits(results["limits"], results.get("e2e", {}).get("tiny"))
    if "memory" in results:
        targets.update(_memory(results["memory"]))
    if "scaling" in results:
        _scaling(results["scaling"])
    _targets(targets)
    return targets


def _table(headers: list[str], rows: list[list[str]]) -> None:
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join(" --- " for _ in headers) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def _kernel(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    print("\n## Resize kernel (decode + resize to 384x384 + encode; median ms, one thread)\n")
    by_sample: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        by_sample.setdefault(row["sample"], {})[row["engine"]] = row

    table = []
    quality_ok = True
    for sample, engines in by_sample.items():
        ours, naive, vips = engines["resizeq"], engines["naive"], engines.get("pyvips")
        quality_ok &= ours["psnr_db"] >= naive["psnr_db"] - PSNR_TOLERANCE_DB
        table.append([
            sample, f"{ours['median_ms']:.1f}", f"{naive['median_ms']:.1f}",
            f"{vips['median_ms']:.1f}" if vips else "-",
            f"{naive['median_ms'] / ours['median_ms']:.2f}x",
            f"{vips['median_ms'] / ours['median_ms']:.2f}x" if vips else "-",
            f"{ours['psnr_db']:.2f} / {ours['ssim']:.4f}",
            f"{naive['psnr_db']:.2f} / {naive['ssim']:.4f}",
            f"{vips['psnr_db']:.2f} / {vips['ssim']:.4f}" if vips else "-",
        ])
    _table(["input", "resizeq ms", "naive ms", "pyvips ms", "naive/resizeq",
            "pyvips/resizeq", "resizeq PSNR dB / SSIM", "naive", "pyvips"], table)

    targets: dict[str, dict[str, Any]] = {
        "quality_at_least_naive": {"value": quality_ok, "goal": "PSNR >= naive - 0.1 dB",
                                   "met": quality_ok},
    }
    twelve = by_sample.get("jpeg-12mp", {})
    if "pyvips" in twelve:
        ratio = twelve["pyvips"]["median_ms"] / twelve["resizeq"]["median_ms"]
        targets["kernel_12mp_vs_pyvips"] = {"value": round(ratio, 2), "goal": ">= 1.0",
                                            "met": ratio >= 1.0}
    return targets


def _steps(rows: list[dict[str, Any]]) -> None:
    print("\n## Fast-path steps (decode + resample only; quality before encoding)\n")
    _table(["input", "step", "median ms", "PSNR dB", "SSIM"],
           [[row["sample"], row["step"], f"{row['median_ms']:.1f}", f"{row['psnr_db']:.2f}",
             f"{row['ssim']:.5f}"] for row in rows])


def _e2e(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    print("\n## End to end (HTTP upload to result stored; closed loop, medians over rounds)\n")
    table, targets = [], {}
    goals = {"large": LARGE_RATIO, "tiny": TINY_RATIO}
    for size, result in results.items():
        peer, ours = result["median"]["peer"], result["median"]["resizeq"]
        ratio = ours["throughput_per_s"] / peer["throughput_per_s"]
        table.append([
            f"{size} ({result['sample']})", str(result["jobs"]), str(result["concurrency"]),
            f"{ours['throughput_per_s']:.1f}", f"{peer['throughput_per_s']:.1f}",
            f"**{ratio:.2f}x**",
            f"{ours['p50_ms']:.0f} / {ours['p99_ms']:.0f}",
            f"{peer['p50_ms']:.0f} / {peer['p99_ms']:.0f}",
        ])
        targets[f"e2e_{size}_vs_peer"] = {"value": round(ratio, 2),
                                         "goal": f">= {goals[size]:g}",
                                         "met": ratio >= goals[size]}
    _table(["images", "jobs", "clients", "resizeq jobs/s", "peer jobs/s", "ratio",
            "resizeq p50 / p99 ms", "peer p50 / p99 ms"], table)
    _cpu(results)
    return targets


def _cpu(results: dict[str, Any]) -> None:
    """CPU time per finished job, by process: what bounds throughput on a full machine."""
    print("\n### CPU per job (ms of CPU time, user + system, median over rounds)\n")
    roles = ("api", "consumer", "broker", "clients")
    rows = []
    cores = os.cpu_count() or 1
    for size, result in results.items():
        for system in ("resizeq", "peer"):
            cpu = result["median"][system]["cpu_ms_per_job"]
            total = sum(cpu[role] for role in roles)
            rows.append([size, system, *(f"{cpu[role]:.2f}" for role in roles),
                         f"{total:.2f}", f"{1000 * cores / total:.0f}"])
    _table(["images", "system", *roles, "total", f"ceiling on {cores} cores, jobs/s"], rows)


def _limits(result: dict[str, Any], tiny: dict[str, Any] | None) -> None:
    print(f"\n## Tiny images: each half of resizeq alone ({result['jobs']} jobs, 8 clients)\n")
    rows = [["API alone: uploads accepted, no consumer running",
             f"{result['api_alone_per_s']:.0f}"],
            ["one consumer alone: draining that backlog", f"{result['consumer_alone_per_s']:.0f}"]]
    if tiny:
        ours, peer = tiny["median"]["resizeq"], tiny["median"]["peer"]
        rows += [["both together, end to end", f"{ours['throughput_per_s']:.0f}"],
                 ["peer end to end", f"{peer['throughput_per_s']:.0f}"],
                 [f"{TINY_RATIO:g}x the peer", f"{TINY_RATIO * peer['throughput_per_s']:.0f}"]]
    _table(["what", "jobs/s"], rows)


def _memory(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    width, height = result["size"]
    print(f"\n## Consumer peak RSS ({width}x{height} JPEG, {result['jobs']} uploads at once)\n")
    ours, peer = result["resizeq"], result["peer"]
    _table(["consumer", "idle MiB", "peak MiB (VmHWM)"],
           [["resizeq", f"{ours['idle_mib']:.0f}", f"{ours['peak_mib']:.0f}"],
            ["peer", f"{peer['idle_mib']:.0f}", f"{peer['peak_mib']:.0f}"]])
    peak = ours["peak_mib"]
    return {"consumer_peak_rss_24mp_mib": {"value": round(peak, 1), "goal": f"< {PEAK_RSS_MIB:g}",
                                          "met": peak < PEAK_RSS_MIB}}


def _scaling(result: dict[str, Any]) -> None:
    print(f"\n## Scaling as KEDA would (N = ceil(queue length / "
          f"{result['queue_length_per_consumer']}), max {result['max_replicas']}; "
          f"one worker thread per consumer)\n")
    rows = [*result["drains"], result["single_consumer"]]
    _table(["backlog", "queue length", "consumers", "drain s", "jobs/s"],
           [[str(row["backlog"]), str(row["queue_length"]), str(row["consumers"]),
             f"{row['seconds']:.2f}", f"{row['jobs_per_s']:.1f}"] for row in rows])
    if result["two_over_one"]:
        print(f"\n2 consumers over 1 on the same backlog: **{result['two_over_one']:.2f}x**")


def _targets(targets: dict[str, dict[str, Any]]) -> None:
    if not targets:
        return
    print("\n## Targets\n")
    _table(["target", "value", "goal", "met"],
           [[name, str(target["value"]), target["goal"], "yes" if target["met"] else "**no**"]
            for name, target in targets.items()])
