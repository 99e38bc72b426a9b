"""The tables of Benchmarks/llada2-mini.sh from its JSON files. Usage: python3 llada2-mini-table.py OUT_DIR"""
import json, os, sys

out = sys.argv[1]
def load(name):
    path = os.path.join(out, name + ".json")
    return json.load(open(path)) if os.path.exists(path) else None

def gb(b): return "%.2f GB" % (b / 1e9)

def floor(d, s):
    """The step's floor and bound, recomputed from the run's peak and bandwidth (a binary from
    before the combined floor reported the compute floor only)."""
    compute = s["operations"] / (d["int8_peak_gops"] * 1e9) if d.get("int8_peak_gops") else 0
    streaming = s["weight_bytes"] / (d["memory_bandwidth_gbs"] * 1e9) if d.get("memory_bandwidth_gbs") else 0
    return max(compute, streaming), ("memory" if streaming > compute else "compute")

rows = [("dense 8B q4-lean", load("dense-8b")), ("LLaDA2.0-mini q4", load("mini")), ("mini, before (expert by expert)", load("mini-before"))]
print("| model | file | peak RSS (anonymous after run) | prompt pass | median step | floor (bound) | step / floor | weights read per step | distinct experts / layer | tokens/s |")
print("|---|---|---|---|---|---|---|---|---|---|")
for label, d in rows:
    if not d: continue
    s = d["median_step"]
    size = os.path.getsize(d["model"]) if os.path.exists(d["model"]) else 0
    f, bound = floor(d, s)
    print("| %s | %s | %s (%s) | %.2f s | %.3f s | %.3f s (%s) | %.2f× | %s | %s | %.2f |" % (
        label, gb(size), gb(d["peak_rss_bytes"]), gb(d["rss_anon_after_run_bytes"] or 0), d["prefill_seconds"], s["seconds"],
        f, bound, s["seconds"] / f if f else 0, gb(s["weight_bytes"]),
        "%.1f" % s["distinct_experts_per_layer"] if s["distinct_experts_per_layer"] is not None else "-", d["tokens_per_second"]))
d = load("dense-8b")
if d:
    print("\nint8 peak %.0f GOP/s, memory read %.1f GB/s (same run, %d threads, %s kernels)" % (
        d["int8_peak_gops"] or 0, d["memory_bandwidth_gbs"], d["threads"], d["kernel_path"]))
m, dn = load("mini"), load("dense-8b")
if m and dn:
    print("mini ÷ dense tokens/s: %.2f×" % (m["tokens_per_second"] / dn["tokens_per_second"]))
b = load("mini-before")
if m and b:
    print("mini after ÷ before: step %.2f× faster, tokens/s %.2f×" % (b["median_step"]["seconds"] / m["median_step"]["seconds"], m["tokens_per_second"] / b["tokens_per_second"]))

print("\n| run | block | prompt | weights read per step (= per token) | distinct experts / layer | median step | step / floor | tokens/s |")
print("|---|---|---|---|---|---|---|---|")
for name in ["scaling-block8", "scaling-block16", "scaling-block32", "scaling-block64", "scaling-prompt64", "scaling-prompt2048"]:
    d = load(name)
    if not d: continue
    s = d["median_step"]
    print("| %s | %d | %d | %s | %.1f | %.3f s | %.2f× | %.2f |" % (
        name, d["block_length"], d["prompt_length"], gb(s["weight_bytes"]), s["distinct_experts_per_layer"] or 0, s["seconds"],
        s["floor_multiple"] or 0, d["tokens_per_second"]))
