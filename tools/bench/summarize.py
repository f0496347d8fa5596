#!/usr/bin/env python3
"""Summarises `submit/bench-vs-pytorch` runs: reads JSON lines tagged "ours" / "torch" on stdin (one bench result per
line, in the order they ran) and prints one JSON document with, per side, the median tokens/s and its spread (min, max),
and the ratio ours / PyTorch: the ratio of the medians and the median and spread of the per-pair ratios (run i of ours
against run i of PyTorch, taken back to back, so a change in the machine's load hits both); the same on the training
thread's CPU clock (cpu_*), which a loaded machine leaves comparable."""
import json
import statistics
import sys


def spread(values):
    return {"median": round(statistics.median(values), 4), "min": round(min(values), 4),
            "max": round(max(values), 4), "runs": len(values)}


def main():
    ours, torch, extra, ours_cpu, torch_cpu = [], [], [], [], []
    for line in sys.stdin:
        side, _, doc = line.strip().partition(" ")
        if not doc:
            continue
        rec = json.loads(doc)
        if side == "ours":
            ours.append(rec["tokens_per_s"])
            ours_cpu.append(rec["cpu_tokens_per_s"])
            extra.append(rec)
        elif side == "torch":
            torch.append(rec["tokens_per_s"])
            torch_cpu.append(rec["cpu_tokens_per_s"])
        else:
            sys.exit("Cannot summarise: expected lines tagged ours or torch, got " + repr(side))
    if not ours or len(ours) != len(torch):
        sys.exit("Cannot summarise: expected as many runs of ours as of PyTorch (at least one), got %d and %d"
                 % (len(ours), len(torch)))
    pairs = [o / t for o, t in zip(ours, torch)]
    out = {"preset": extra[0]["preset"], "threads": extra[0]["threads"],
           "ours_tokens_per_s": spread(ours), "torch_tokens_per_s": spread(torch),
           "ratio_of_medians": round(statistics.median(ours) / statistics.median(torch), 3),
           "pair_ratio": spread(pairs),
           "ours_cpu_tokens_per_s": spread(ours_cpu), "torch_cpu_tokens_per_s": spread(torch_cpu),
           "cpu_pair_ratio": spread([o / t for o, t in zip(ours_cpu, torch_cpu)]),
           "cpu_mfu": spread([r["cpu_mfu"] for r in extra]),
           "mfu": spread([r["mfu"] for r in extra]),
           "peak_sgemm_gflops": spread([r["peak_sgemm_gflops"] for r in extra])}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
