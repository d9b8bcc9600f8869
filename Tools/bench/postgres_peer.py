#!/usr/bin/env python3
"""The PostgreSQL peer of civic's benchmark: the same work civic's commands do, done on an events table
in the style of Marten (the .NET event store on PostgreSQL), which is what a team would otherwise pick.

Started by Tools/bench/postgres-peer, which installs PostgreSQL, runs a throw-away cluster and removes it;
this file only talks to that cluster, through Debian's psql and nothing else (standard library only):

    postgres_peer.py bench FILE --host SOCKETDIR --port PORT --bin PGBINDIR --scratch DIR [--subject S] [--unit U]
        creates the schema, measures every figure, prints `pg.NAME VALUE UNIT` lines on stdout
    postgres_peer.py append FILE --host SOCKETDIR --port PORT --bin PGBINDIR
        the client that appends FILE (NDJSON CloudEvents) in transactions of 10,000 events; `bench`
        starts it as a fresh process and times it from outside, as a user meets `civic append`

Every figure is the wall time of a whole fresh process (psql, or the append client), from its start to
its exit, like Tools/bench/timed.py does for civic's commands: one run first, not counted (caches warm as
they are for a user who just ran something), then the median of the counted runs. Notes go to stderr.
"""
import argparse
import json
import os
import queue
import subprocess
import sys
import threading
import time

BATCH = 10_000  # events a transaction, as civic's bulk append commits them

# The table of the brief, as Marten's mt_events keeps events: a global sequence, the stream and the
# event's version in it (unique together: the optimistic-concurrency check of every append), the event's
# id (unique: an event is appended once), its type, time, actor and body as jsonb.
#
# The unit's trail needs "every problem ever assigned to unit U". The fairest simple way is a column the
# database computes itself at append time (a stored generated column, as Marten's "duplicated fields"
# are), with a partial index on it: the client sends nothing more, the index costs the append what
# civic's unit links cost civic's append, and the column names the units an event concerns exactly as
# civic's `Event.unitsConcerned` does: the unit of an assignment or of a reopening that moves the problem,
# the unit's own registration, the unit an accountability case is aimed at. An expression index on
# data->>'unit' alone would miss the last two and index nothing else for free, so it is no cheaper.
#
# What the table does not keep: the CloudEvents envelope's specversion, source, actorrole and actorunit
# (the brief's schema has no place for them; civic stores and hashes them). That makes PostgreSQL's size
# and append figures a little better than a complete copy would be.
SCHEMA = """
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE TABLE events (
    seq         bigserial   PRIMARY KEY,
    stream      text        NOT NULL,
    version     integer     NOT NULL,
    id          text        NOT NULL UNIQUE,
    type        text        NOT NULL,
    time        timestamptz NOT NULL,
    actor       text        NOT NULL,
    data        jsonb       NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    unit        text GENERATED ALWAYS AS (CASE
                    WHEN type IN ('problem.assigned', 'problem.reopened') THEN data->>'unit'
                    WHEN type = 'unit.registered' THEN stream
                    WHEN type = 'accountability.recorded' AND data->'target'->>'kind' = 'unit'
                        THEN data->'target'->>'id'
                END) STORED,
    UNIQUE (stream, version)
);
CREATE INDEX events_unit ON events (unit) WHERE unit IS NOT NULL;
"""

COPY_COLUMNS = "events (stream, version, id, type, time, actor, data)"

# One stored event as JSON, as a trail prints it (the generated column is an index helper, not shown).
EVENT_JSON = """json_build_object('seq', e.seq, 'stream', e.stream, 'version', e.version, 'id', e.id,
    'type', e.type, 'time', e.time, 'actor', e.actor, 'data', e.data, 'recordedAt', e.recorded_at)"""

SUBJECT_TRAIL = f"""
SELECT coalesce(json_agg({EVENT_JSON} ORDER BY e.version), '[]')
FROM events e WHERE e.stream = {{subject}};
"""

# Every event of every stream the unit was ever linked to (its problems, its own registration, cases
# aimed at it), in log order as civic's trail is: the partial index finds the streams, the (stream,
# version) index reads each stream.
UNIT_TRAIL = f"""
SELECT coalesce(json_agg({EVENT_JSON} ORDER BY e.seq), '[]')
FROM events e
WHERE e.stream IN (SELECT stream FROM events WHERE unit = {{unit}});
"""

# The issue board folded from the events at query time, in one pass over the log grouped by stream: for
# every problem its latest state by civic's lifecycle (CampaignState.apply). Marten would rather keep an
# inline projection (a document per problem updated in each append's transaction), which moves this cost
# into the append; the brief measures the table of events alone, so the fold happens here, per request.
#   status   from the last status-changing event: reported, assigned, submitted, verified -> closed,
#            rejected -> assigned, reopened -> assigned, withdrawn
#   unit, leader   from the last assignment or reopening that names a unit (a reopening names no leader,
#            so its leader is null; civic keeps the leader when a reopening names the same unit again)
#   deadline from the last assignment, extension or reopening
#   overdue  as civic's Problem.isOverdue: assigned, with a deadline before now
#            (submitted problems wait for the office, not for the unit: they are not overdue)
# {where} narrows the events read, {pick} the problems shown.
BOARD = """
WITH folded AS (
    SELECT stream AS id,
           max(version) AS version,
           (array_agg(type ORDER BY version DESC) FILTER (WHERE type IN
               ('problem.reported', 'problem.assigned', 'rectification.submitted', 'rectification.verified',
                'rectification.rejected', 'problem.reopened', 'problem.withdrawn')))[1] AS last_status,
           (array_agg(unit ORDER BY version DESC)
               FILTER (WHERE type IN ('problem.assigned', 'problem.reopened') AND unit IS NOT NULL))[1] AS unit,
           (array_agg(data->>'leader' ORDER BY version DESC)
               FILTER (WHERE type IN ('problem.assigned', 'problem.reopened') AND unit IS NOT NULL))[1] AS leader,
           (array_agg(data->>'deadline' ORDER BY version DESC) FILTER (WHERE type IN
               ('problem.assigned', 'problem.deadlineExtended', 'problem.reopened')))[1]::timestamptz AS deadline,
           count(*) FILTER (WHERE type = 'rectification.rejected') AS rejections,
           count(*) FILTER (WHERE type = 'problem.escalated') AS escalations,
           count(*) FILTER (WHERE type = 'problem.reopened') AS reopens,
           min(time) FILTER (WHERE type = 'problem.reported') AS reported_at,
           max(time) FILTER (WHERE type = 'rectification.verified') AS verified_at,
           (array_agg(data) FILTER (WHERE type = 'problem.reported'))[1] AS report
    FROM events
    {where}
    GROUP BY stream
    HAVING count(*) FILTER (WHERE type = 'problem.reported') > 0
), board AS (
    SELECT f.*,
           CASE last_status
               WHEN 'problem.reported' THEN 'reported'
               WHEN 'problem.assigned' THEN 'assigned'
               WHEN 'rectification.submitted' THEN 'submitted'
               WHEN 'rectification.verified' THEN 'closed'
               WHEN 'rectification.rejected' THEN 'assigned'
               WHEN 'problem.reopened' THEN 'assigned'
               WHEN 'problem.withdrawn' THEN 'withdrawn'
           END AS status
    FROM folded f
), shown AS MATERIALIZED (
    SELECT b.*, (b.status = 'assigned' AND b.deadline < now()) AS overdue FROM board b
), picked AS MATERIALIZED (
    SELECT * FROM shown {pick}
)
SELECT json_build_object(
    'counts', json_build_object(
        'byStatus', (SELECT coalesce(json_object_agg(status, n), '{{}}')
                     FROM (SELECT status, count(*) AS n FROM picked GROUP BY status) c),
        'overdue', (SELECT count(*) FROM picked WHERE overdue)),
    'problems', (SELECT coalesce(json_agg(json_build_object(
        'id', id, 'status', status, 'batch', report->>'batch', 'source', report->>'source',
        'category', report->>'category', 'area', report->'location'->>'area',
        'street', report->'location'->>'street', 'point', report->'location'->>'point',
        'description', report->>'description', 'unit', unit, 'leader', leader, 'deadline', deadline,
        'overdue', overdue, 'reportedAt', reported_at,
        'closedAt', CASE WHEN status = 'closed' THEN verified_at END,
        'rejections', rejections, 'escalations', escalations, 'reopens', reopens, 'version', version)
        ORDER BY id), '[]') FROM picked));
"""

WHOLE_BOARD = BOARD.format(where="", pick="")


def unit_board(unit):
    """One unit's overdue problems. A problem's unit now is one it was once assigned to, so the fold reads
    only the streams the unit index names, as a user who knows SQL would write it, not the whole log."""
    u = literal(unit)
    return BOARD.format(where=f"WHERE stream IN (SELECT stream FROM events WHERE unit = {u})",
                        pick=f"WHERE unit = {u} AND overdue")

# What PostgreSQL offers nearest to civic's verify (which re-reads every stored byte and recomputes the
# hash chain): a fresh psql recomputing a SHA-256 (pgcrypto's digest) of every row's full text, every
# column included, data re-rendered from jsonb. It reads and hashes every row; there is no stored hash
# to compare with and no chain, so it checks less than civic's verify does.
VERIFY = """
SELECT count(*), sum(get_byte(digest(e::text, 'sha256'), 0)) FROM events e;
"""


def note(*parts):
    print("postgres-peer:", *parts, file=sys.stderr, flush=True)


def literal(s):
    """A SQL string literal (standard_conforming_strings is on: only quotes are doubled)."""
    return "'" + s.replace("'", "''") + "'"


def copy_text(s):
    """A field of COPY's text format: backslash, tab, newline and carriage return escaped."""
    if "\\" in s:
        s = s.replace("\\", "\\\\")
    if "\t" in s or "\n" in s or "\r" in s:
        s = s.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return s


class Cluster:
    """How to reach the throw-away cluster: Debian's psql itself (not the pg_wrapper script in
    /usr/bin, a Perl program whose start would be timed with every read), on the Unix socket."""

    def __init__(self, args):
        self.psql = os.path.join(args.bin, "psql")
        self.conn = ["-h", args.host, "-p", str(args.port), "-U", "postgres", "-d", "postgres"]

    def command(self, *extra):
        # -X: no ~/.psqlrc; -A -t: bare values; -q: no command tags; stop at the first error.
        return [self.psql, *self.conn, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", *extra]

    def query(self, sql, timeout=600):
        """Runs `sql` in a fresh psql, returns its output (for set-up and look-ups, never timed)."""
        r = subprocess.run(self.command("-f", "-"), input=sql.encode(), capture_output=True, timeout=timeout)
        if r.returncode != 0:
            sys.exit(f"postgres-peer: psql failed ({r.returncode}): {r.stderr.decode(errors='replace')[:800]}")
        return r.stdout.decode()


def psql_env():
    env = dict(os.environ, PGCLIENTENCODING="UTF8", PGTZ="UTC")
    env.pop("PGOPTIONS", None)
    return env


# ---------------------------------------------------------------------------------------------------------
# The append client.


def parse_line(line, number):
    """One NDJSON line as the fields the table stores, the data re-serialized as compact JSON."""
    try:
        e = json.loads(line)
        return (e["subject"], e["id"], e["type"], e["time"], e["actor"],
                json.dumps(e["data"], ensure_ascii=False, separators=(",", ":")))
    except (ValueError, KeyError, TypeError) as error:
        sys.exit(f"postgres-peer: line {number}: not an event as the table takes it ({error!r})")


class Writer(threading.Thread):
    """Feeds one psql its script (BEGIN; COPY ... FROM STDIN; rows; COMMIT) batch by batch, on a thread of
    its own: while it waits on the pipe (the GIL released), the main thread parses the next batch, so that
    the client's parsing and the server's inserting overlap on the machine's two cores."""

    def __init__(self, command):
        super().__init__(daemon=True)
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, env=psql_env())
        self.batches = queue.Queue(maxsize=2)
        self.failed = None

    def run(self):
        try:
            while (batch := self.batches.get()) is not None:
                self.proc.stdin.write(batch)
            self.proc.stdin.close()
        except (BrokenPipeError, OSError) as error:
            self.failed = error

    def put(self, batch):
        if self.failed is not None or self.proc.poll() is not None:
            self.stop_failed()
        self.batches.put(batch)

    def finish(self):
        self.batches.put(None)
        self.join()
        rc = self.proc.wait()
        if rc != 0 or self.failed is not None:
            self.stop_failed()

    def stop_failed(self):
        rc = self.proc.wait()
        sys.exit(f"postgres-peer: the append failed (psql exit {rc}; its error is above)")


class Reader:
    """A second psql session for the streams' current versions: it answers while the writer's COPY is
    still running, so that the look-up does not wait for the previous batch's commit."""

    def __init__(self, command):
        self.proc = subprocess.Popen([*command, "-F", "\x1f"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=psql_env())

    def versions(self, streams):
        array = "{" + ",".join('"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' for s in streams) + "}"
        sql = (f"SELECT stream, max(version) FROM events WHERE stream = ANY({literal(array)}::text[]) "
               "GROUP BY stream;\n\\echo __end__\n")
        self.proc.stdin.write(sql.encode())
        self.proc.stdin.flush()
        found = {}
        for raw in self.proc.stdout:
            line = raw.decode().rstrip("\n")
            if line == "__end__":
                return found
            stream, version = line.split("\x1f")
            found[stream] = int(version)
        sys.exit("postgres-peer: the version look-up's psql ended (its error is above)")

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def append(args):
    """Appends FILE in transactions of BATCH events, the way Marten's append does it: the client knows
    each stream's version (read from the table for a stream it has not written yet, then kept), gives
    each event the next one, and sends the batch in one transaction; the unique (stream, version) and id
    constraints are the database's check that no other writer came between (a violation fails the
    append). The rows go by COPY, the fastest path PostgreSQL has; every commit is durable."""
    cluster = Cluster(args)
    writer = Writer(cluster.command("-f", "-"))
    writer.start()
    reader = Reader(cluster.command("-f", "-"))
    known = {}  # stream -> its last version, as this client wrote or read it
    head = f"BEGIN;\nCOPY {COPY_COLUMNS} FROM STDIN;\n".encode()
    tail = b"\\.\nCOMMIT;\n"

    def flush(rows):
        new = {r[0] for r in rows if r[0] not in known}
        if new:
            found = reader.versions(sorted(new))
            for s in new:
                known[s] = found.get(s, 0)
        out = []
        for stream, event_id, kind, when, actor, data in rows:
            v = known[stream] + 1
            known[stream] = v
            out.append("\t".join((copy_text(stream), str(v), copy_text(event_id), copy_text(kind),
                                  copy_text(when), copy_text(actor), copy_text(data))))
        out.append("")
        writer.put(head + "\n".join(out).encode() + tail)

    rows, count = [], 0
    with open(args.file, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            count += 1
            rows.append(parse_line(line, count))
            if len(rows) == BATCH:
                flush(rows)
                rows = []
    if rows:
        flush(rows)
    reader.close()
    writer.finish()
    print(count)


# ---------------------------------------------------------------------------------------------------------
# The benchmark.


def run_once(command, timeout=600, usage=None):
    """Wall time and bytes written on stdout of one fresh process, counted as timed.py counts them;
    the child's CPU time (user, system) put in `usage` when given."""
    started = time.monotonic()
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=psql_env())
    timer = threading.Timer(timeout, child.kill)
    timer.start()
    written = 0
    while chunk := child.stdout.read(1 << 20):
        written += len(chunk)
    _, status, rusage = os.wait4(child.pid, 0)
    if usage is not None:
        usage[:] = [rusage.ru_utime, rusage.ru_stime]
    ended = time.monotonic()
    timer.cancel()
    error = child.stderr.read().decode(errors="replace")
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        sys.exit(f"postgres-peer: {' '.join(command[:3])}... failed ({rc}): {error.strip()[:800]}")
    return ended - started, written


def median_of(runs, command_for, timeout):
    """Median wall time (s) and the last run's output size over `runs` fresh processes, after one run
    that is not counted. `command_for(i)` gives run i's command (i = 0 for the warm-up)."""
    run_once(command_for(0), timeout=timeout)
    walls, written = [], 0
    for i in range(1, runs + 1):
        wall, written = run_once(command_for(i), timeout=timeout)
        walls.append(wall)
    walls.sort()
    return walls[len(walls) // 2], written


def figure(name, value, unit):
    print(f"pg.{name} {value} {unit}", flush=True)


def rewritten(file, suffix, limit):
    """The first `limit` events of `file` with ids and subjects made new by `suffix`: lawful new events
    (new streams, each starting at version 1) of the same shape and size as the campaign's."""
    out = []
    with open(file, "rb") as f:
        for line in f:
            if len(out) == limit:
                break
            if not line.strip():
                continue
            e = json.loads(line)
            e["id"] += suffix
            e["subject"] += suffix
            out.append(json.dumps(e, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(out) + "\n"


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def bench(args):
    # The figures are only as quiet as the machine: say how busy it was before and after.
    note(f"load average before: {load_average()}")
    cluster = Cluster(args)
    read = cluster.command()
    me = [sys.executable, os.path.abspath(__file__)]
    conn = ["--host", args.host, "--port", str(args.port), "--bin", args.bin]

    cluster.query(SCHEMA, timeout=60)

    # Bulk append: one fresh client process, from its start (reading and parsing the NDJSON included)
    # to its exit after the last durable commit.
    cpu = []
    seconds, _ = run_once([*me, "append", args.file, *conn], timeout=args.append_timeout, usage=cpu)
    events = int(cluster.query("SELECT count(*) FROM events;"))
    # What the client itself cost (Python's JSON parsing and COPY formatting, and its two psql):
    # CPU taken from the server on a machine of two cores.
    note(f"append: the client's own CPU {cpu[0]:.1f} s user + {cpu[1]:.1f} s system of {seconds:.1f} s")
    figure("append.events_per_s", round(events / seconds), "events/s")
    figure("append.seconds", f"{seconds:.2f}", "s")

    size = int(cluster.query("SELECT pg_total_relation_size('events');"))
    figure("size.bytes", size, "bytes")
    figure("size.bytes_per_event", f"{size / events:.1f}", "bytes/event")

    # A live database has had autovacuum and autoanalyze over a table this size long before anyone reads
    # it: statistics for the planner, the visibility map for index-only scans. Done here, untimed, and a
    # checkpoint, so that the reads are not timed against the append's writeback (civic's run syncs too).
    started = time.monotonic()
    cluster.query("VACUUM ANALYZE events;\nCHECKPOINT;", timeout=600)
    note(f"vacuum analyze and checkpoint after the load: {time.monotonic() - started:.1f} s (untimed)")

    # The problem with the most events, and the unit with the most problems, unless given.
    subject = args.subject or cluster.query(
        "SELECT stream FROM events GROUP BY stream HAVING bool_or(type = 'problem.reported') "
        "ORDER BY count(*) DESC, stream LIMIT 1;").strip()
    unit = args.unit or cluster.query(
        "SELECT unit FROM events WHERE type IN ('problem.assigned', 'problem.reopened') AND unit IS NOT NULL "
        "GROUP BY unit ORDER BY count(DISTINCT stream) DESC, unit LIMIT 1;").strip()
    note(f"{events} events; subject {subject}, unit {unit}")

    def psql_c(sql):
        return lambda i: [*read, "-c", sql]

    wall, size = median_of(20, psql_c(SUBJECT_TRAIL.format(subject=literal(subject))), 60)
    figure("trail.subject_ms", f"{wall * 1000:.2f}", "ms")
    note(f"trail of {subject}: {size} bytes")
    wall, size = median_of(5, psql_c(UNIT_TRAIL.format(unit=literal(unit))), 120)
    figure("trail.unit_ms", f"{wall * 1000:.1f}", "ms")
    note(f"trail of {unit}: {size} bytes")

    wall, size = median_of(3, psql_c(WHOLE_BOARD), 600)
    figure("board.json_s", f"{wall:.3f}", "s")
    figure("board.json_bytes", size, "bytes")
    wall, size = median_of(20, psql_c(unit_board(unit)), 120)
    figure("board.unit_ms", f"{wall * 1000:.1f}", "ms")
    note(f"board of {unit}, overdue: {size} bytes")

    wall, _ = median_of(3, psql_c(VERIFY), 600)
    figure("verify.events_per_s", round(events / wall), "events/s")

    # Appends last: they add events. Each new event is one of the campaign's first events made new.
    lines = rewritten(args.file, "", 51).splitlines()

    def single(i):
        e = json.loads(lines[i % len(lines)])
        stream = literal(e["subject"] + f"-single{i}")
        # One fresh psql, one statement, autocommitted (a durable commit): the version is read from the
        # stream's last in the same statement, one round trip where Marten's client makes two.
        sql = (f"INSERT INTO {COPY_COLUMNS} SELECT {stream}, coalesce(max(version), 0) + 1, "
               f"{literal(e['id'] + f'-single{i}')}, {literal(e['type'])}, {literal(e['time'])}, "
               f"{literal(e['actor'])}, {literal(json.dumps(e['data'], ensure_ascii=False))}::jsonb "
               f"FROM events WHERE stream = {stream};")
        return [*read, "-c", sql]

    wall, _ = median_of(50, single, 30)
    figure("append.single_ms", f"{wall * 1000:.2f}", "ms")

    # The same single appends inside one open session, timed by psql per statement: the commit's own
    # latency, without a process and a connection each (the figure nearest civic's in-process one).
    script = ["\\timing on"]
    for i in range(1, 51):
        e = json.loads(lines[i % len(lines)])
        stream = literal(e["subject"] + f"-session{i}")
        script.append(f"INSERT INTO {COPY_COLUMNS} SELECT {stream}, coalesce(max(version), 0) + 1, "
                      f"{literal(e['id'] + f'-session{i}')}, {literal(e['type'])}, {literal(e['time'])}, "
                      f"{literal(e['actor'])}, {literal(json.dumps(e['data'], ensure_ascii=False))}::jsonb "
                      f"FROM events WHERE stream = {stream};")
    out = subprocess.run(cluster.command("-f", "-"), input="\n".join(script).encode() + b"\n",
                         capture_output=True, timeout=60, env=psql_env()).stdout.decode()
    times = sorted(float(l.split()[1]) for l in out.splitlines() if l.startswith("Time: "))
    if times:
        figure("append.single_in_session_ms", f"{times[len(times) // 2]:.3f}", "ms")

    # 10,000 new events into the full table, each run a fresh client process as the bulk append was.
    batch = min(BATCH, events)
    files = []
    for i in range(6):
        path = os.path.join(args.scratch, f"new-{i}.ndjson")
        with open(path, "w") as f:
            f.write(rewritten(args.file, f"-r{i}", batch))
        files.append(path)
    wall, _ = median_of(5, lambda i: [*me, "append", files[i], *conn], 300)
    figure("append.10k_into_full_ms", f"{wall * 1000:.1f}", "ms")
    if batch != BATCH:
        note(f"the file has fewer than {BATCH} events: append.10k_into_full_ms appended {batch}")
    for path in files:
        os.remove(path)
    note(f"load average after: {load_average()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["bench", "append"])
    parser.add_argument("file")
    parser.add_argument("--host", required=True, help="the folder of the cluster's Unix socket")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bin", required=True, help="PostgreSQL's bin folder (psql)")
    parser.add_argument("--scratch", help="a folder for the generated new events (bench)")
    parser.add_argument("--subject", help="the problem whose trail is read (default: the one with most events)")
    parser.add_argument("--unit", help="the unit whose trail and board are read (default: most problems)")
    parser.add_argument("--append-timeout", type=float, default=900)
    args = parser.parse_args()
    if args.mode == "append":
        append(args)
    else:
        if not args.scratch:
            parser.error("bench needs --scratch")
        bench(args)


if __name__ == "__main__":
    main()
