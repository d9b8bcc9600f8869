#!/usr/bin/env python3
"""The benchmark of docs/performance.md: every figure of its targets, through the `civic` command as a
user runs it (a fresh process each time, the whole command), beside raw LMDB in C and PostgreSQL doing
the same work in the same run. Run by `Tools/bench/run`, which builds what it needs first.

    run.py --civic BIN --generate BIN --rawlmdb BIN [--postgres SCRIPT] [--events N] [--mixes city,sparse]
           [--scale] [--work DIR]

For each mix it generates a campaign (`civic-generate`), appends it with one `civic append`, and times
the commands users run. With --scale it also appends 2x and 4x the events of the first mix, for the
store's growth and the memory of the append. It prints one table per mix: each figure, its target,
civic, raw LMDB and PostgreSQL, and civic's ratio to each. Raw figures lines are kept in the work folder.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def sh(*command, stdout=None, check=True):
    return subprocess.run(command, stdout=stdout, stderr=subprocess.PIPE, check=check, text=stdout == subprocess.PIPE)


def once(command, stdin=None):
    """One run of a whole command: (wall seconds, peak MiB)."""
    started = time.monotonic()
    child = subprocess.Popen(command, stdin=stdin or subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {' '.join(command)} failed: {child.stderr.read().decode(errors='replace')[:400]}")
    return wall, usage.ru_maxrss / 1024


def timed(name, runs, command):
    """(median s, p99 s, peak MiB, bytes written) of a command run `runs` times (Tools/bench/timed.py)."""
    out = sh(sys.executable, os.path.join(HERE, "timed.py"), name, str(runs), "--", *command, stdout=subprocess.PIPE).stdout.split()
    return float(out[1]), float(out[2]), float(out[3]), int(out[4])


def stats(civic, store):
    return json.loads(sh(civic, "stats", "--store", store, "--format", "json", stdout=subprocess.PIPE).stdout)


def allocated(store):
    """Bytes the store takes on disk (blocks allocated to its files)."""
    return sum(os.stat(os.path.join(store, f)).st_blocks * 512 for f in os.listdir(store))


def pick_subjects(path, events):
    """From a campaign file: a problem with many events, the unit with most problems, a mid-campaign week."""
    events_of, units, times = {}, {}, []
    with open(path) as f:
        for k, line in enumerate(f):
            if k >= events:
                break
            e = json.loads(line)
            s = e["subject"]
            if s.startswith("P-"):
                events_of[s] = events_of.get(s, 0) + 1
            if e["type"] == "problem.assigned":
                units.setdefault(e["data"]["unit"], set()).add(s)
            if k % 1000 == 0:
                times.append(e["time"])
    problem = max(events_of, key=events_of.get)
    unit = max(units, key=lambda u: len(units[u]))
    return problem, events_of[problem], unit, len(units[unit]), times[len(times) // 2]


def week_of(rfc3339):
    import datetime
    d = datetime.datetime.fromisoformat(rfc3339).date()
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


def split_lines(src, first, count, dst):
    with open(src) as f, open(dst, "w") as out:
        for k, line in enumerate(f):
            if k >= first + count:
                break
            if k >= first:
                out.write(line)


def measure_mix(args, mix, events, work, raw_lines, pg_lines):
    civic = args.civic
    figures = {}
    campaign = os.path.join(work, f"{mix}-{events}.ndjson")
    # Events beyond the store's: 10,000 for the append into the full store, then single events.
    extra = 10_000 + 40
    with open(campaign, "w") as out:
        subprocess.run([args.generate, "--events", str(events + extra), "--seed", "7", "--mix", mix], stdout=out, check=True)
    base, increment = campaign + ".base", campaign + ".10k"
    split_lines(campaign, 0, events, base)
    split_lines(campaign, events, 10_000, increment)
    singles = []
    for k in range(40):
        path = f"{campaign}.single-{k}"
        split_lines(campaign, events + 10_000 + k, 1, path)
        singles.append(path)
    problem, problem_events, unit, unit_problems, mid_time = pick_subjects(base, events)
    figures["info"] = f"{events:,} events, {os.path.getsize(base) / 1e6:.0f} MB NDJSON; audit subject {problem} ({problem_events} events), unit {unit} ({unit_problems} problems)"

    store = os.path.join(work, f"store-{mix}")
    shutil.rmtree(store, ignore_errors=True)
    sh(civic, "init", "--store", store)
    wall, peak = once([civic, "append", "--store", store, base])
    figures["append.events_per_s"] = events / wall
    figures["append.peak_mib"] = peak
    sh("sync")
    s = stats(civic, store)
    log_ids = s["tables"]["log"] + s["tables"]["ids"]
    figures["store.bytes"] = allocated(store)
    # The Merkle tree (docs/transparency.md) is counted apart, as docs/performance.md's target says.
    tree = s["tables"].get("tree", 0)
    figures["store.ratio"] = (figures["store.bytes"] - tree) / log_ids
    figures["store.tree_bytes_per_event"] = tree / events
    figures["store.bytes_per_event"] = figures["store.bytes"] / events

    def view(name, runs, *argv):
        median, p99, peak, size = timed(name, runs, [civic, *argv, "--store", store])
        figures[name] = median
        figures[name + ".p99"] = p99
        figures[name + ".peak_mib"] = peak
        figures[name + ".bytes"] = size

    view("verify", 5, "verify")
    figures["verify.events_per_s"] = events / figures["verify"]
    view("audit.subject", 20, "audit", "--subject", problem, "--format", "json")
    view("audit.unit", 5, "audit", "--unit", unit, "--format", "json")
    view("board.json", 3, "board", "--format", "json")
    view("board.csv", 3, "board", "--format", "csv")
    figures["board.json.mb_per_s"] = figures["board.json.bytes"] / 1e6 / figures["board.json"]
    view("ranking", 20, "ranking", "--week", week_of(mid_time))
    half = f"seq:{events // 2}"
    view("progress.head", 30, "progress")
    view("progress.asof", 30, "progress", "--as-of", half)
    view("board.unit_overdue.head", 30, "board", "--unit", unit, "--overdue")
    view("board.unit_overdue.asof", 30, "board", "--unit", unit, "--overdue", "--as-of", half)
    view("board.unit.at", 30, "board", "--unit", unit, "--at", mid_time)

    # Appends into the full store, each on a copy of it.
    walls = []
    for k in range(3):
        copy = store + f".copy{k}"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(store, copy)
        sh("sync")  # the copy's pages on disk: the append's commit would otherwise write them all out
        walls.append(once([civic, "append", "--store", copy, increment])[0])
        if k < 2:
            shutil.rmtree(copy)
    figures["append.10k_into_full_ms"] = sorted(walls)[1] * 1000
    copy = store + ".copy2"
    walls = [once([civic, "append", "--store", copy, path])[0] for path in singles]
    figures["append.single_ms"] = sorted(walls)[len(walls) // 2] * 1000
    figures["append.single_p99_ms"] = max(walls) * 1000
    shutil.rmtree(copy)

    # The same file as successive appends of 10,000 events into a growing store.
    if mix == args.mixes[0]:
        chunks = os.path.join(work, "chunks")
        shutil.rmtree(chunks, ignore_errors=True)
        os.makedirs(chunks)
        subprocess.run(["split", "-l", "10000", "-d", "-a", "4", base, os.path.join(chunks, "c")], check=True)
        growing = os.path.join(work, "store-growing")
        shutil.rmtree(growing, ignore_errors=True)
        sh(civic, "init", "--store", growing)
        walls = [once([civic, "append", "--store", growing, os.path.join(chunks, c)])[0] for c in sorted(os.listdir(chunks))]
        figures["successive.events_per_s"] = events / sum(walls)
        figures["successive.first_ms"] = walls[0] * 1000
        figures["successive.last_ms"] = walls[-1] * 1000
        figures["successive.last_over_first"] = walls[-1] / walls[0]
        shutil.rmtree(growing)
        shutil.rmtree(chunks)

    # Raw LMDB, on the same stored bytes, in the same run.
    rawout = subprocess.run([args.rawlmdb, store, "--scratch", work], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, check=True).stdout
    raw = {}
    for line in rawout.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            raw[parts[0]] = float(parts[1])
    raw_lines.extend(rawout.splitlines())

    pg = {}
    if args.postgres:
        out = subprocess.run([args.postgres, base, "--work", os.path.join(work, "pg")], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        if out.returncode != 0:
            print(f"bench: the PostgreSQL peer failed: {out.stderr[-600:]}", file=sys.stderr)
        for line in out.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2:
                try:
                    pg[parts[0]] = float(parts[1])
                except ValueError:
                    pass
        pg_lines.extend(out.stdout.splitlines())

    os.remove(campaign)
    return figures, raw, pg, store, base


def scale(args, work, base_store, events):
    """The store's size and the append's memory at 2x and 4x the events of the first mix."""
    rows = {}
    for k in (2, 4):
        n = events * k
        path = os.path.join(work, f"scale-{k}.ndjson")
        with open(path, "w") as out:
            subprocess.run([args.generate, "--events", str(n), "--seed", "7", "--mix", args.mixes[0]], stdout=out, check=True)
        store = os.path.join(work, f"store-{k}x")
        shutil.rmtree(store, ignore_errors=True)
        sh(args.civic, "init", "--store", store)
        wall, peak = once([args.civic, "append", "--store", store, path])
        sh("sync")
        verify = timed(f"verify.{k}x", 1, [args.civic, "verify", "--store", store])[0]
        rows[k] = {"bytes": allocated(store), "append_s": wall, "peak_mib": peak, "verify_s": verify, "events": n}
        os.remove(path)
        shutil.rmtree(store)
    return rows


def ratio(a, b, higher_is_better):
    if a is None or b is None or a == 0 or b == 0:
        return ""
    r = a / b if higher_is_better else b / a
    return f"{r:.2f}x"


def table(mix, f, raw, pg):
    ms = lambda s: None if s is None else s * 1000
    rows = [
        # label, civic value, unit, target text, raw value, pg value, higher is better
        ("append FILE, one transaction", f["append.events_per_s"], "ev/s", ">= 250,000", raw.get("raw.append.log_and_ids"), pg.get("pg.append.events_per_s"), True),
        ("  its peak memory", f["append.peak_mib"], "MiB", "<= 1024", None, None, False),
        ("successive appends of 10,000", f.get("successive.events_per_s"), "ev/s", ">= 400,000", raw.get("raw.append.log_and_ids"), None, True),
        ("  the last over the first", f.get("successive.last_over_first"), "x", "<= 1.3", None, None, False),
        ("10,000 into the full store", f["append.10k_into_full_ms"], "ms", "<= 150", None, pg.get("pg.append.10k_into_full_ms"), False),
        ("one event (median)", f["append.single_ms"], "ms", "<= 50", None, pg.get("pg.append.single_ms"), False),
        ("store on disk (tree apart) / (log + ids)", f["store.ratio"], "x", "<= 1.5", None, None, False),
        ("  the Merkle tree per event", f["store.tree_bytes_per_event"], "B", "<= 80", None, None, False),
        ("store per event", f["store.bytes_per_event"], "B", "", None, pg.get("pg.size.bytes_per_event"), False),
        ("verify", f["verify.events_per_s"], "ev/s", ">= 1,000,000", raw.get("raw.scan.rehash"), pg.get("pg.verify.events_per_s"), True),
        ("  its peak memory", f["verify.peak_mib"], "MiB", "", None, None, False),
        ("audit --subject", ms(f["audit.subject"]), "ms", "<= 20", None, pg.get("pg.trail.subject_ms"), False),
        ("audit --unit", ms(f["audit.unit"]), "ms", "<= 300", None, pg.get("pg.trail.unit_ms"), False),
        ("board --format json (whole)", f["board.json"], "s", "<= 1", None, pg.get("pg.board.json_s"), False),
        ("  written at", f["board.json.mb_per_s"], "MB/s", ">= 150", None, None, True),
        ("board --format csv (whole)", f["board.csv"], "s", "<= 1", None, None, False),
        ("ranking --week", ms(f["ranking"]), "ms", "<= 100", None, None, False),
        ("progress (median)", ms(f["progress.head"]), "ms", "<= 50", None, None, False),
        ("  p99", ms(f["progress.head.p99"]), "ms", "<= 100", None, None, False),
        ("progress --as-of half (median)", ms(f["progress.asof"]), "ms", "<= 50", None, None, False),
        ("  p99", ms(f["progress.asof.p99"]), "ms", "<= 100", None, None, False),
        ("board --unit --overdue (median)", ms(f["board.unit_overdue.head"]), "ms", "<= 50", None, pg.get("pg.board.unit_ms"), False),
        ("  p99", ms(f["board.unit_overdue.head.p99"]), "ms", "<= 100", None, None, False),
        ("  --as-of half (median)", ms(f["board.unit_overdue.asof"]), "ms", "<= 50", None, None, False),
        ("  p99", ms(f["board.unit_overdue.asof.p99"]), "ms", "<= 100", None, None, False),
        ("board --unit --at mid-campaign", ms(f["board.unit.at"]), "ms", "<= 50", None, None, False),
        ("  p99", ms(f["board.unit.at.p99"]), "ms", "<= 100", None, None, False),
    ]
    print(f"\n## {mix}: {f['info']}\n")
    print(f"| {'figure':34} | {'civic':>12} | {'target':>13} | {'raw LMDB':>10} | {'civic/raw':>9} | {'PostgreSQL':>10} | {'civic/pg':>8} |")
    print(f"|{'-' * 36}|{'-' * 14}|{'-' * 15}|{'-' * 12}|{'-' * 11}|{'-' * 12}|{'-' * 10}|")
    fmt = lambda v: "" if v is None else (f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}")
    for label, value, unit, target, rawv, pgv, higher in rows:
        if value is None:
            continue
        print(f"| {label:34} | {fmt(value):>7} {unit:>4} | {target:>13} | {fmt(rawv):>10} | {ratio(value, rawv, higher):>9} | "
              f"{fmt(pgv):>10} | {ratio(value, pgv, higher):>8} |")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--civic", required=True)
    p.add_argument("--generate", required=True)
    p.add_argument("--rawlmdb", required=True)
    p.add_argument("--postgres")
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--mixes", default="city,sparse")
    p.add_argument("--scale", action="store_true")
    p.add_argument("--work", default="/tmp/civic-bench")
    args = p.parse_args()
    args.mixes = args.mixes.split(",")
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    print(f"# civic benchmark, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {os.cpu_count()} cores; "
          f"every civic figure a whole command from a fresh process")
    raw_lines, pg_lines = [], []
    results = []
    for mix in args.mixes:
        figures, raw, pg, store, base = measure_mix(args, mix, args.events, args.work, raw_lines, pg_lines)
        table(mix, figures, raw, pg)
        results.append((mix, figures))
        with open(os.path.join(args.work, f"figures-{mix}.json"), "w") as out:
            json.dump({"civic": figures, "raw": raw, "postgres": pg}, out, indent=1)
        os.remove(base)
        shutil.rmtree(store, ignore_errors=True)
    if args.scale:
        one = results[0][1]
        rows = scale(args, args.work, None, args.events)
        print(f"\n## growth ({args.mixes[0]})\n")
        print("| events | store on disk | x the 1x store | target | append | peak memory | verify |")
        print("|---|---|---|---|---|---|---|")
        print(f"| {args.events:,} | {one['store.bytes'] / 1e6:,.0f} MB | 1.00 | | {args.events / one['append.events_per_s']:.1f} s | "
              f"{one['append.peak_mib']:,.0f} MiB | {one['verify']:.2f} s |")
        for k, r in rows.items():
            print(f"| {r['events']:,} | {r['bytes'] / 1e6:,.0f} MB | {r['bytes'] / one['store.bytes']:.2f} | <= {2.1 if k == 2 else 4.2} | "
                  f"{r['append_s']:.1f} s | {r['peak_mib']:,.0f} MiB | {r['verify_s']:.2f} s |")
    with open(os.path.join(args.work, "raw.txt"), "w") as out:
        out.write("\n".join(raw_lines + pg_lines) + "\n")


if __name__ == "__main__":
    main()
