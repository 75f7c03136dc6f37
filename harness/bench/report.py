#!/usr/bin/env python3
"""Assemble the latency report of `make bench` from the parts ci/bench.sh
measured: reports/latency.json, reports/latency.md and reports/latency.png
(every file written to a temporary name and renamed into place), and print
a short table.

    report.py PARTS_DIR OUT_DIR BUDGETS_FILE

PARTS_DIR holds handlers.json, instructions.txt, ept.json, size.json and,
when they could be measured, kvm.json, replay.json, fuzz.json,
fuzz-before.json, fuzz-afl.json, meta.json.
Each figure is put beside its floor: handler cost beside the hardware exit
round trip, EPT build/verify beside a memset of the table bytes, the
runner's round trip beside a raw KVM exit.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# Used when /dev/kvm cannot be measured in this run: DESIGN.md "KVM facts",
# port I/O round trip on this machine class.
DESIGN_EXIT_NS = 10200.0
# The fuzzing-speed goals (execs/s, one core, ASan+UBSan, libFuzzer).
FUZZ_GOALS = {"exits": 20000, "ept": 10000, "hcall": 50000, "config": 20000}


def load(parts, name, required=True):
    path = os.path.join(parts, name)
    if not os.path.exists(path):
        if required:
            sys.exit("report: missing %s" % path)
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except ValueError as e:
        sys.exit("report: %s is not valid JSON: %s" % (path, e))


def load_instructions(parts, name="instructions.txt"):
    out = {}
    path = os.path.join(parts, name)
    if os.path.exists(path):
        for line in open(path):
            f = line.split()
            if len(f) == 2:
                out[f[0]] = int(f[1]) if f[1].isdigit() else None
    return out


def load_budgets(path):
    out = {}
    for n, line in enumerate(open(path), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        f = line.split()
        if len(f) != 2 or not f[1].isdigit():
            sys.exit("report: %s:%d: expected 'CASE INSTRUCTIONS'" % (path, n))
        out[f[0]] = int(f[1])
    return out


def write_atomic(path, data, mode="w"):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, mode) as f:
        f.write(data)
    os.replace(tmp, path)


def fmt_ns(ns):
    if ns is None:
        return "-"
    if ns >= 1e6:
        return "%.2f ms" % (ns / 1e6)
    if ns >= 1e3:
        return "%.2f µs" % (ns / 1e3)
    if ns < 10:
        return "%.1f ns" % ns
    return "%.0f ns" % ns


def pct(x):
    return "%.1f%%" % (100.0 * x)


def pct_fine(x):
    """A percentage that keeps two significant digits below 1%."""
    p = 100.0 * x
    return "%.1f%%" % p if p >= 1 else "%.2g%%" % p


def build(parts, out_dir, budgets_path):
    h = load(parts, "handlers.json")
    ept = load(parts, "ept.json")
    size = load(parts, "size.json")
    # One vendor's exit translation only (hv_image_intel.elf, hv_image_amd.elf).
    size["vendors"] = {v: load(parts, "size-%s.json" % v) for v in ("intel", "amd")}
    kvm = load(parts, "kvm.json", False) or {"available": False, "reason": "not measured"}
    replay = load(parts, "replay.json", False) or {"available": False, "reason": "not measured"}
    boot = load(parts, "boot.json", False) or {"available": False, "reason": "not measured"}
    call = load(parts, "call.json", False) or {"available": False, "reason": "not measured"}
    fuzz = load(parts, "fuzz.json", False) or {"available": False, "reason": "not measured"}
    before = load(parts, "fuzz-before.json", False) or {"available": False,
                                                         "reason": "not measured"}
    afl = load(parts, "fuzz-afl.json", False) or {"available": False, "reason": "not measured"}
    if fuzz.get("available"):
        # Per target: the figure at the before commit and on AFL++
        # persistent mode beside libFuzzer's.
        was = {t["target"]: t.get("execs_per_s") for t in before.get("targets", [])}
        got = {t["target"]: t for t in afl.get("targets", [])} if afl.get("available") else {}
        for t in fuzz["targets"]:
            t["before_execs_per_s"] = was.get(t["target"]) if before.get("available") else None
            t["goal_execs_per_s"] = FUZZ_GOALS.get(t["target"])
            a = got.get(t["target"]) or {}
            t["afl_execs_per_s"] = a.get("execs_per_s")
            t["afl_ratio_to_ceiling"] = a.get("ratio_to_ceiling")
            t["afl_note"] = a.get("note")
        fuzz["before"] = {k: before.get(k) for k in ("available", "rev", "reason", "ceiling")
                          if k in before}
        fuzz["afl"] = {k: afl.get(k) for k in ("available", "reason", "ceiling",
                                                 "seconds_per_target") if k in afl}
    meta = load(parts, "meta.json", False) or {}
    instr = load_instructions(parts)
    instr_free = load_instructions(parts, "instructions_free.txt")
    budgets = load_budgets(budgets_path)
    tpn = h["tsc_ghz"]

    if kvm.get("available"):
        floor_ns = kvm["raw"]["out"]["p50_ns"]
        floor_src = "raw KVM OUT exit round trip, median, measured in this run"
    else:
        floor_ns = DESIGN_EXIT_NS
        floor_src = ("port I/O round trip from DESIGN.md (KVM not measured in this run: %s)"
                     % kvm.get("reason", "?"))

    cases = []
    for c in h["cases"]:
        cy = c["cycles"]
        ns = {k: cy[k] / tpn for k in ("p1", "p10", "p25", "p50", "p75", "p90", "p99", "max", "mean")}
        name = c["name"]
        cases.append({
            "name": name,
            "what": c["what"],
            "cycles": cy,
            "ns": {k: round(v, 1) for k, v in ns.items()},
            "instructions": instr.get(name),
            "instructions_freestanding": instr_free.get(name),
            "budget": budgets.get(name),
            "p50_vs_exit": round(ns["p50"] / floor_ns, 4),
            "p99_vs_exit": round(ns["p99"] / floor_ns, 4),
        })

    doc = {
        "schema": 1,
        "meta": meta,
        "floors": {"hardware_exit_ns": round(floor_ns, 1), "hardware_exit_source": floor_src},
        "handlers": {
            "tsc_ghz": tpn,
            "timer_overhead_cycles": h["timer_overhead_cycles"],
            "iterations": h["iterations"],
            "warmup": h["warmup"],
            "platform": "hosted bench platform (tables for host CPUID/MSR, memcpy for memory)",
            "instructions_by": "callgrind --toggle-collect=hv_handle_exit, Ir / iterations",
            "cases": cases,
        },
        "kvm": kvm,
        "boot": boot,
        "call": call,
        "replay": replay,
        "fuzz": fuzz,
        "ept": ept,
        "image": size,
    }
    return doc


def plot(doc, out_dir):
    cases = doc["handlers"]["cases"]
    floor = doc["floors"]["hardware_exit_ns"]
    data = os.path.join(out_dir, ".latency.dat.%d" % os.getpid())
    with open(data, "w") as f:
        for i, c in enumerate(cases, 1):
            ns = c["ns"]
            vals = [max(ns[k], 1.0) for k in ("p1", "p10", "p25", "p50", "p75", "p90", "p99")]
            f.write("%d\t%s\t%s\n" % (i, c["name"], "\t".join("%.1f" % v for v in vals)))
    png = os.path.join(out_dir, "latency.png")
    tmp = "%s.tmp.%d.png" % (png, os.getpid())
    label = "hardware exit round trip %s (%s)" % (
        fmt_ns(floor), "measured" if doc["kvm"].get("available") else "DESIGN.md")
    cmd = ["gnuplot", "-e", "data='%s'; out='%s'; n=%d; floor=%f; floorlabel='%s'" % (data, tmp, len(cases), floor, label),
           os.path.join(HERE, "latency.gp")]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True)
    except FileNotFoundError:
        os.unlink(data)
        return "gnuplot not installed: no plot"
    os.unlink(data)
    if r.returncode != 0 or not os.path.exists(tmp):
        if os.path.exists(tmp):
            os.unlink(tmp)
        return "gnuplot failed: %s" % r.stderr.strip()[-300:]
    os.replace(tmp, png)
    return None


def markdown(doc, plot_err):
    m = doc["meta"]
    fl = doc["floors"]
    floor = fl["hardware_exit_ns"]
    L = []
    w = L.append
    w("# hx latency report")
    w("")
    w("Machine: %s, %s cores, kernel %s, load average %s at start. Commit %s, %s." % (
        m.get("cpu", "?"), m.get("cores", "?"), m.get("kernel", "?"), m.get("load", "?"),
        m.get("commit", "?"), m.get("date", "?")))
    w("Reproduce with `make bench` (raw numbers: latency.json; plot: latency.png).")
    w("")
    w("Floor of every handler figure: **%s**, the %s." % (fmt_ns(floor), fl["hardware_exit_source"]))
    w("")
    hd = doc["handlers"]
    w("## Handler cost per exit")
    w("")
    w("hv_handle_exit on the optimised hosted core, %d exits per type after %d warm-up exits; "
      "TSC at %.3f GHz read with LFENCE/RDTSC ... RDTSCP/LFENCE, the timer's own %d cycles "
      "subtracted (resolution: the TSC of this VM advances in steps of about 10 ns, so the fastest exits read as 10-20 ns). "
      "Instructions: callgrind, exact and repeatable; the budget is ci/budgets.conf (gate: "
      "budget + 10%%; hardware instruction counters on this machine: %s). Host CPUID/MSR "
      "come from tables, so neither a nested CPUID trap nor the host's own MSR cost is in "
      "these figures." % (
          hd["iterations"], hd["warmup"], hd["tsc_ghz"], hd["timer_overhead_cycles"],
          {True: "available", False: "not available"}.get(m.get("hw_instruction_counters"), "unknown")))
    w("")
    w("| exit | what | p50 | p90 | p99 | cycles p50 | instructions | budget | instructions, freestanding flags | p50 / exit floor | p99 / exit floor |")
    w("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    dash = lambda v: v if v is not None else "-"
    for c in hd["cases"]:
        w("| %s | %s | %s | %s | %s | %.0f | %s | %s | %s | %s | %s |" % (
            c["name"], c["what"], fmt_ns(c["ns"]["p50"]), fmt_ns(c["ns"]["p90"]),
            fmt_ns(c["ns"]["p99"]), c["cycles"]["p50"], dash(c["instructions"]),
            dash(c["budget"]), dash(c.get("instructions_freestanding")),
            pct(c["p50_vs_exit"]), pct(c["p99_vs_exit"])))
    w("")
    w("Instructions, freestanding flags: the same cases on the core compiled with the "
      "freestanding build's flags (no builtins, general registers only), i.e. what firmware "
      "executes; the budget gate uses the hosted column.")
    w("")
    if plot_err:
        w("Plot: not produced (%s)." % plot_err)
    else:
        w("![handler cost per exit type](latency.png)")
    w("")

    k = doc["kvm"]
    w("## KVM round trip: raw exit vs the runner")
    w("")
    if not k.get("available"):
        w("Not measured in this run: %s." % k.get("reason", "?"))
    else:
        r = k["raw"]
        w("Same process, %d rounds, medians of per-round means. Raw: a real-mode guest exiting in a "
          "tight loop, a bare KVM_RUN loop with no handler (%d exits per round). Runner: "
          "harness/bench/guest/bench_exits.c under hxk_run, every exit translated, handled by "
          "hv_handle_exit, checked by the oracles and resumed. kvm = inside KVM_RUN, runner = "
          "from KVM_RUN's return to the next call; other = runner minus handler, oracles and "
          "recording (exit translation, MMIO instruction location, DECODE-EQ, register sync)." % (
              k["rounds"], k["raw_exits_per_round"]))
        w("")
        w("| exit | round trip (mean) | p50 | p99 | vs raw MMIO | vs raw OUT |")
        w("|---|--:|--:|--:|--:|--:|")
        w("| raw OUT (floor) | %s | %s | %s | | 1.00 |" % (
            fmt_ns(r["out"]["mean_ns"]), fmt_ns(r["out"]["p50_ns"]), fmt_ns(r["out"]["p99_ns"])))
        w("| raw MMIO store (floor) | %s | %s | %s | 1.00 | %.2f |" % (
            fmt_ns(r["mmio"]["mean_ns"]), fmt_ns(r["mmio"]["p50_ns"]), fmt_ns(r["mmio"]["p99_ns"]),
            r["mmio"]["mean_ns"] / r["out"]["mean_ns"]))
        for key, label in (("ept_violation", "runner MMIO store (EPT violation)"),
                           ("cpuid", "runner CPUID (hardware breakpoint)"),
                           ("vmcall", "runner VMCALL YIELD (hardware breakpoint)")):
            x = k["runner"][key]
            w("| %s | %s | | | %.2f | %.2f |" % (
                label, fmt_ns(x["round_trip_ns"]), x["round_trip_ns"] / r["mmio"]["mean_ns"],
                x["round_trip_ns"] / r["out"]["mean_ns"]))
        w("")
        w("Where the runner's time goes (mean ns per exit):")
        w("")
        w("| exit | kvm | runner | handler | oracles | record | other | handler share |")
        w("|---|--:|--:|--:|--:|--:|--:|--:|")
        for key in ("ept_violation", "cpuid", "vmcall"):
            x = k["runner"][key]
            w("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                key, fmt_ns(x["kvm_ns"]), fmt_ns(x["runner_ns"]), fmt_ns(x["handler_ns"]),
                fmt_ns(x["oracle_ns"]), fmt_ns(x["record_ns"]), fmt_ns(x["other_ns"]),
                pct(x["handler_ns"] / x["round_trip_ns"])))
    w("")

    cl = doc.get("call", {})
    w("## Sandboxed firmware call (hx call, /dev/kvm)")
    w("")
    if not cl.get("available"):
        w("Not measured in this run: %s." % cl.get("reason", "?"))
    else:
        w("add(1, 2) of harness/guest/firmware/hostile.c (a dozen instructions, a few ns "
          "called directly) in corpus/configs/sandbox.json, median of %d runs. One call on a "
          "sandbox that exists (the stub, the arguments, KVM_RUN, the CALL_RETURN exit through "
          "the core, the oracles and the trace) is (t(%d chained calls) - t(1 call)) / %d; a "
          "whole `hx call` includes creating the VM and its memslots, loading the image and "
          "writing the trace." % (cl["runs"], cl["chained"], cl["chained"] - 1))
        w("")
        w("| | time |")
        w("|---|--:|")
        w("| one call on an open sandbox | %s |" % fmt_ns(cl["per_call_ns"]))
        w("| a whole `hx call` | %s |" % fmt_ns(cl["hx_call_ns"]))
        lib = cl.get("library") or {}
        if lib.get("available"):
            w("")
            w("Through the C library (hx-bench-call, no trace), against the same function "
              "called directly; one exit inside a call from GetTime (%d exits) against a "
              "GetTime that returns at once; a reset from KVM's dirty log after a "
              "SetVariable (%.1f pages restored on average)."
              % (lib["get_time_exits"], lib["reset_pages"]))
            w("")
            w("| | time | against a direct call |")
            w("|---|--:|--:|")
            w("| add(1..8) called directly | %s | 1x |" % fmt_ns(lib["direct_ns"]))
            w("| add(1..8) in the sandbox | %s | %.0fx |"
              % (fmt_ns(lib["library_call_ns"]), lib["library_call_ns"] / lib["direct_ns"]))
            w("| one port-I/O exit inside a call | %s | |" % fmt_ns(lib["per_exit_ns"]))
            w("| a reset from the dirty log | %s | |" % fmt_ns(lib["reset_ns"]))
    w("")

    b = doc.get("boot", {})
    w("## Booted hypervisor under QEMU (EMULATED, not hardware)")
    w("")
    if not b.get("available"):
        w("Not measured in this run: %s." % b.get("reason", "?"))
    else:
        w("hx_boot.elf, the freestanding core as an SVM hypervisor, booted by `hx boot` in %s "
          "with `-cpu EPYC` (TCG: QEMU interprets the guest, VMRUN and #VMEXIT in software, so "
          "none of these is a hardware figure). Guest: harness/bench/guest/bench_exits.c, "
          "20,000 exits per type. round = VMRUN to the result applied (the emulated world switch "
          "both ways, the guest's loop since its last exit, the VMCB layer and the handler); "
          "handler = hv_handle_exit; the image's TSC converted at the run's wall-clock rate. "
          "Median of %d runs. The whole run, with the image's per-exit event stream and the "
          "guest's own work, reaches %.0f core exits/s." % (
              b["qemu"], b["runs"], b.get("whole_run_exits_per_s") or 0))
        w("")
        w("| exit | round trip | handler | exits/s | handler share |")
        w("|---|--:|--:|--:|--:|")
        for key, x in sorted(b["kinds"].items()):
            w("| %s | %s | %s | %.0f | %.1f%% |" % (key, fmt_ns(x["round_ns"]),
                                                    fmt_ns(x["handler_ns"]), x["exits_per_s"],
                                                    x["handler_share_pct"]))
    w("")

    rp = doc["replay"]
    w("## Replay throughput")
    w("")
    if not rp.get("available", True) or "with_oracles_exits_per_s" not in rp:
        w("Not measured in this run: %s." % rp.get("reason", "?"))
    else:
        w("hx_replay_run on the parsed corpus traces (%d exits per round, %d rounds, median; each "
          "replay includes its system set-up and EPT build). With oracles: one replay pass as "
          "`hx replay` runs it, without the DET pass. Without oracles: the engine's DET pass alone "
          "(same platform and observer, no oracles, no comparison), derived as time(DET on) - "
          "time(DET off)." % (rp["exits_per_round"], rp["rounds"]))
        w("")
        w("| replay | exits/s | µs per exit |")
        w("|---|--:|--:|")
        for key, label in (("with_oracles", "with oracles"), ("without_oracles", "without oracles")):
            eps = rp[key + "_exits_per_s"]
            if eps:
                w("| %s | %.0f | %.2f |" % (label, eps, 1e6 / eps))
            else:
                w("| %s | not measurable (too noisy: raise the rounds) | |" % label)
        if rp.get("skipped"):
            w("")
            w("Skipped (do not replay cleanly): %s" % "; ".join(rp["skipped"]))
    w("")

    fz = doc["fuzz"]
    w("## Fuzz targets")
    w("")
    if not fz.get("available"):
        w("Not measured in this run: %s." % fz.get("reason", "?"))
    else:
        w("libFuzzer, %d s per target on its seeds, ASan+UBSan builds (as `make fuzz`: UBSan"
          " without its alignment and pointer-overflow checks, which libFuzzer's compare hooks"
          " made dear; the plain build that replays the corpus keeps them), one core." %
          fz["seconds_per_target"])
        w("")
        ceil = fz.get("ceiling") or {}
        if ceil.get("execs_per_s"):
            w("Engine ceiling: %s execs/s, an empty target built with the same flags (%s s from an"
              " empty corpus; harness/bench/fuzz_ceiling.c). It has no code of its own to"
              " instrument, so a target's ratio also holds libFuzzer's per-run work on the"
              " target's own coverage counters." % (ceil["execs_per_s"], fz["seconds_per_target"]))
        else:
            w("Engine ceiling: not measured (%s)." % ceil.get("note", "not in this run"))
        w("")
        b = fz.get("before") or {}
        if b.get("available"):
            w("Before: the targets at commit %s, built by that commit's own build files and"
              " measured the same way in this run on that commit's seeds"
              " (harness/bench/fuzz-before.sh)." % b.get("rev"))
        else:
            w("Before: not measured in this run (%s)." % b.get("reason", "BENCH_BEFORE=none"))
        w("")
        a = fz.get("afl") or {}
        aceil = (a.get("ceiling") or {}).get("execs_per_s")
        if a.get("available"):
            w("AFL++: the same targets built with afl-clang-fast (ASan+UBSan) on the persistent-mode"
              " driver (harness/fuzz/driver_afl.c: shared-memory test cases, `__AFL_LOOP`,"
              " initialisation before the fork server), one afl-fuzz instance pinned with its target"
              " to one CPU, %s s each on the same seeds; execs/s is execs_done / run_time of"
              " fuzzer_stats. Its ceiling, the empty target on the same driver: %s execs/s (the"
              " fork server's handshake, one round per input)." % (
                  a.get("seconds_per_target", "?"), aceil or "not measured"))
        else:
            w("AFL++: not measured in this run (%s)." % a.get("reason", "?"))
        w("")
        w("| target | before execs/s | execs/s | now / before | goal | now / goal |"
          " of the ceiling | AFL++ execs/s | AFL++ / libFuzzer | AFL++ of its ceiling |"
          " executions | edges | note |")
        w("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
        for t in fz["targets"]:
            r = t.get("ratio_to_ceiling")
            now, was, goal = t.get("execs_per_s"), t.get("before_execs_per_s"), t.get("goal_execs_per_s")
            af, ar = t.get("afl_execs_per_s"), t.get("afl_ratio_to_ceiling")
            note = t.get("note", "")
            if t.get("afl_note") and t.get("afl_note") != "ok":
                note += "; AFL++: " + t["afl_note"]
            w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                t["target"], was or "-", now or "-",
                "%.2fx" % (now / was) if now and was else "-", goal or "-",
                pct(now / goal) if now and goal else "-",
                pct_fine(r) if r is not None else "-",
                af or "-", "%.2fx" % (af / now) if af and now else "-",
                pct_fine(ar) if ar is not None else "-",
                t.get("executions") or "-", t.get("edges") or "-", note))
    w("")

    e = doc["ept"]
    w("## Second-stage tables: build and verify (EPT and NPT)")
    w("")
    w("One builder and one verifier, each with a per-format encoder/decoder: Intel EPT "
      "(SDM Vol. 3C, 29.3) and AMD nested page tables (APM Vol. 2, 15.25). "
      "Median of %d warm runs each; floor: memset of the same number of table bytes." %
      e["layouts"][0]["repeats"])
    w("")
    w("| layout | format | mapped | table pages | build | verify | memset floor | build / floor | verify / floor |")
    w("|---|---|--:|--:|--:|--:|--:|--:|--:|")
    for l in e["layouts"]:
        w("| %s (%s) | %s | %.2f GiB | %d | %s | %s | %s | %.1fx | %.1fx |" % (
            l["name"], l["what"], l.get("format", "ept").upper(), l["mapped_bytes"] / 2**30,
            l["table_pages"],
            fmt_ns(l["build_ns"]), fmt_ns(l["verify_ns"]), fmt_ns(l["memset_ns"]),
            l["build_vs_memset"], l["verify_vs_memset"]))
    w("")

    s = doc["image"]
    w("## Freestanding image size")
    w("")
    w("build/handlers/hv_image.elf (-O2, --gc-sections): text %d, data %d, bss %d bytes; "
      "loadable bytes (objcopy -O binary) **%d**, LZMA (xz -9e) **%d** — what flash pays." % (
          s["text"], s["data"], s["bss"], s["loadable_bytes"], s["xz_bytes"]))
    w("")
    w("Per vendor: a firmware for one vendor links only that vendor's exit translation "
      "(VMCS or VMCB); the builder, verifier and handlers are shared.")
    w("")
    w("| image | exit translation | text | loadable bytes | xz -9e |")
    w("|---|---|--:|--:|--:|")
    for name, what, img in (("hv_image.elf", "both", s),
                            ("hv_image_intel.elf", "Intel VMCS", s["vendors"]["intel"]),
                            ("hv_image_amd.elf", "AMD VMCB", s["vendors"]["amd"])):
        w("| %s | %s | %d | %d | %d |" % (name, what, img["text"], img["loadable_bytes"],
                                          img["xz_bytes"]))
    w("")
    w("| source file | text | rodata | data | bss | total |")
    w("|---|--:|--:|--:|--:|--:|")
    for f in sorted(s["files"], key=lambda f: -(f["text"] + f["rodata"] + f["data"])):
        w("| %s | %d | %d | %d | %d | %d |" % (f["file"], f["text"], f["rodata"], f["data"],
                                              f["bss"], f["text"] + f["rodata"] + f["data"]))
    w("")
    return "\n".join(L) + "\n"


def summary(doc):
    floor = doc["floors"]["hardware_exit_ns"]
    print("handler cost per exit (floor: hardware exit %s, %s)" % (
        fmt_ns(floor), "measured" if doc["kvm"].get("available") else "DESIGN.md"))
    print("  %-18s %9s %9s %8s %8s %9s" % ("exit", "p50", "p99", "instr", "budget", "p50/exit"))
    for c in doc["handlers"]["cases"]:
        print("  %-18s %9s %9s %8s %8s %9s" % (
            c["name"], fmt_ns(c["ns"]["p50"]), fmt_ns(c["ns"]["p99"]),
            c["instructions"] if c["instructions"] is not None else "-",
            c["budget"] if c["budget"] is not None else "-", pct(c["p50_vs_exit"])))
    k = doc["kvm"]
    if k.get("available"):
        x = k["runner"]["ept_violation"]
        print("KVM round trip: raw OUT %s, raw MMIO %s, runner MMIO %s (%.2fx raw MMIO; handler %s, oracles %s)" % (
            fmt_ns(k["raw"]["out"]["mean_ns"]), fmt_ns(k["raw"]["mmio"]["mean_ns"]),
            fmt_ns(x["round_trip_ns"]), k["runner_mmio_vs_raw_mmio"], fmt_ns(x["handler_ns"]),
            fmt_ns(x["oracle_ns"])))
    else:
        print("KVM round trip: not measured (%s)" % k.get("reason", "?"))
    rp = doc["replay"]
    if "with_oracles_exits_per_s" in rp:
        print("replay: %.0f exits/s with oracles, %s without" % (
            rp["with_oracles_exits_per_s"], "%.0f" % rp["without_oracles_exits_per_s"]
            if rp["without_oracles_exits_per_s"] else "(not measurable)"))
    else:
        print("replay: not measured (%s)" % rp.get("reason", "?"))
    fz = doc["fuzz"]
    if fz.get("available"):
        ceil = (fz.get("ceiling") or {}).get("execs_per_s")
        print("fuzz execs/s (engine ceiling %s): " % (ceil or "not measured") + ", ".join(
            "%s %s%s%s" % (t["target"], t.get("execs_per_s") or "-",
                           " (%s)" % pct_fine(t["ratio_to_ceiling"])
                           if t.get("ratio_to_ceiling") is not None else "",
                           " [before %s]" % t["before_execs_per_s"]
                           if t.get("before_execs_per_s") else "")
            for t in fz["targets"]))
        a = fz.get("afl") or {}
        if a.get("available"):
            print("fuzz execs/s on AFL++ persistent (ceiling %s): " % (
                (a.get("ceiling") or {}).get("execs_per_s") or "not measured") + ", ".join(
                "%s %s" % (t["target"], t.get("afl_execs_per_s") or "-") for t in fz["targets"]))
        else:
            print("fuzz on AFL++: not measured (%s)" % a.get("reason", "?"))
    else:
        print("fuzz: not measured (%s)" % fz.get("reason", "?"))
    for l in doc["ept"]["layouts"]:
        print("%s %-9s build %9s verify %9s (memset floor %s)" % (
            l.get("format", "ept").upper(), l["name"], fmt_ns(l["build_ns"]),
            fmt_ns(l["verify_ns"]), fmt_ns(l["memset_ns"])))
    s = doc["image"]
    print("image: %d loadable bytes, %d xz -9e (Intel only %d, AMD only %d loadable bytes)" % (
        s["loadable_bytes"], s["xz_bytes"], s["vendors"]["intel"]["loadable_bytes"],
        s["vendors"]["amd"]["loadable_bytes"]))


def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: report.py PARTS_DIR OUT_DIR BUDGETS_FILE\n")
        return 2
    parts, out_dir, budgets = sys.argv[1:]
    if not os.path.isdir(parts):
        sys.stderr.write("report: %s is not a directory\n" % parts)
        return 2
    if not os.path.isfile(budgets):
        sys.stderr.write("report: cannot read %s\n" % budgets)
        return 2
    os.makedirs(out_dir, exist_ok=True)
    doc = build(parts, out_dir, budgets)
    plot_err = plot(doc, out_dir)
    write_atomic(os.path.join(out_dir, "latency.json"), json.dumps(doc, indent=2) + "\n")
    write_atomic(os.path.join(out_dir, "latency.md"), markdown(doc, plot_err))
    summary(doc)
    if plot_err:
        sys.stderr.write("report: %s\n" % plot_err)
    print("wrote %s/latency.json, latency.md%s" % (out_dir, "" if plot_err else ", latency.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
