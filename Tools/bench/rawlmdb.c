/*
 * rawlmdb: the raw-LMDB baseline of civic's benchmark (docs/performance.md), the limit civic is compared
 * against: the same work on the same bytes, in C straight against liblmdb, with nothing else.
 *
 * It reads every entry of a civic store's `log` (Schemas/README.md, sections 1–2: key = seq as 8 bytes
 * big-endian; value = 32-byte hash ‖ civic.v1.Entry bytes) into memory, with each entry's id (Entry
 * field 4), and checks the source's chain on the way. Then, in fresh LMDB environments in a scratch
 * folder (mapsize 64 GiB, flags 0: every commit durable), it measures:
 *
 *   raw.append.log_only        every Entry into `log` with MDB_APPEND, recomputing the SHA-256 chain,
 *                              10,000 events a transaction                                  events/s
 *   raw.append.log_and_ids     the same into another fresh environment, plus `ids` (id → seq,
 *                              MDB_NOOVERWRITE) in the same transactions: what civic writes   events/s
 *   raw.commit.single_p50_ms,  N single-event durable transactions (log + ids) on top of the filled
 *   raw.commit.single_p99_ms,  environment (begin, hash, two puts, commit)                    ms
 *   raw.commit.single_max_ms
 *   raw.fsync.p50_ms, _p99_ms, N times: pwrite 4 KiB at offset 0 of a scratch file in the same
 *   raw.fsync.max_ms           folder + fdatasync (the max: how long the disk stalled)       ms
 *   raw.scan.rehash            one read transaction over `log`, recomputing and checking every hash
 *   raw.scan.touch             the same, reading every byte of every key and value (XOR)
 *   raw.scan.keys              keys only (MDB_NEXT without the value), reading each key      events/s
 *
 * The scans run over the log_and_ids environment after the single commits (events + N entries),
 * right after it was written, so its pages are in the page cache (as they are for civic right after
 * an append). Also printed: raw.append.*.written, bytes written to storage per event (from
 * /proc/self/io write_bytes; omitted when unreadable).
 *
 * Output: one line per figure on stdout, `name value unit`, `raw.events N` first; notes on stderr.
 *
 * Build (Debian/Ubuntu: liblmdb-dev, libssl-dev), from the repository root:
 *     cc -O2 -o .build/rawlmdb Tools/bench/rawlmdb.c -llmdb -lcrypto
 * Run:
 *     .build/rawlmdb SRC [--scratch DIR] [--singles N] [--keep]
 *   SRC             a civic store folder (opened read-only, MDB_RDONLY); needs >= 1 event
 *   --scratch DIR   where to write: a new folder DIR/rawlmdb.XXXXXX when DIR exists, else DIR itself,
 *                   created (its parent must exist). Default: a new folder in $TMPDIR, else /tmp. Put it
 *                   on the disk you mean to measure (not a tmpfs). The scratch folder this run made is
 *                   removed at the end (also after an error, not after a signal) unless --keep.
 *   --singles N     number of single-event commits and of fsyncs (default 1000)
 *   --keep          leave the scratch folder in place (to audit what was written, e.g.
 *                   Tools/audit-chain SCRATCH/log_ids; log_only holds the same log without the singles)
 * Exit status: 0 done; 1 an LMDB, OpenSSL or system error, or a SRC that is not a sound civic log
 *              (message on stderr); 2 usage.
 */
#define _GNU_SOURCE
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_*: deprecated in OpenSSL 3, but ~15% faster than EVP here */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <lmdb.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TXN_EVENTS 10000
#define MAPSIZE ((size_t)64 << 30)

/* ---------- errors and cleanup ---------- */

static char scratch[PATH_MAX]; /* the folder this run made; removed at exit */
static int scratch_made, keep_scratch;

static void die(const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    fputs("rawlmdb: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* rc: an LMDB or errno code (mdb_strerror covers both). */
static void check(int rc, const char *what) {
    if (rc != MDB_SUCCESS) die("%s: %s", what, mdb_strerror(rc));
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb; (void)flag; (void)ftw;
    if (remove(path) != 0) fprintf(stderr, "rawlmdb: cannot remove %s: %s\n", path, strerror(errno));
    return 0;
}

static void cleanup(void) {
    if (scratch_made && keep_scratch) {
        fprintf(stderr, "rawlmdb: kept %s\n", scratch);
    } else if (scratch_made) {
        scratch_made = 0;
        nftw(scratch, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    }
}

static void usage(const char *fmt, const char *arg) {
    if (fmt) { fputs("rawlmdb: ", stderr); fprintf(stderr, fmt, arg); fputc('\n', stderr); }
    fputs("usage: rawlmdb SRC [--scratch DIR] [--singles N] [--keep]\n", stderr);
    exit(2);
}

/* ---------- time, bytes, hashing ---------- */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void be64(uint8_t out[8], uint64_t v) {
    for (int i = 7; i >= 0; i--) { out[i] = (uint8_t)v; v >>= 8; }
}

static uint64_t rd_be64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}

/* out = SHA-256(prev ‖ bytes) */
static void chain_hash(const uint8_t prev[32], const uint8_t *bytes, size_t len, uint8_t out[32]) {
    SHA256_CTX c;
    if (!SHA256_Init(&c) || !SHA256_Update(&c, prev, 32) || !SHA256_Update(&c, bytes, len) || !SHA256_Final(out, &c))
        die("OpenSSL SHA-256 failed");
}

static long long write_bytes(void) { /* bytes this process caused to be sent to storage; -1 unknown */
    FILE *f = fopen("/proc/self/io", "r");
    char line[128];
    long long v = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "write_bytes: %lld", &v) == 1) break;
    fclose(f);
    return v;
}

/* ---------- the Entry protobuf, minimal ---------- */

typedef struct {
    uint64_t seq;
    int64_t recorded_at_us;
    const uint8_t *id, *event;
    size_t id_len, event_len;
    int has_id;
} entry_t;

static int rd_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    uint64_t r = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) { *v = r; return 1; }
    }
    return 0;
}

/* Walks the fields of one Entry: 1 seq, 2 version, 3 recorded_at_us (sint64), 4 id, 5 subject,
 * 6 event; unknown fields are skipped. Returns NULL, or what is wrong. */
static const char *parse_entry(const uint8_t *p, size_t len, entry_t *e) {
    const uint8_t *end = p + len;
    memset(e, 0, sizeof *e);
    while (p < end) {
        uint64_t tag, v;
        if (!rd_varint(&p, end, &tag)) return "truncated field tag";
        uint64_t field = tag >> 3;
        if (field == 0) return "field number 0";
        switch (tag & 7) {
        case 0:
            if (!rd_varint(&p, end, &v)) return "truncated varint";
            if (field == 1) e->seq = v;
            else if (field == 3) e->recorded_at_us = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            break;
        case 1:
            if (end - p < 8) return "truncated fixed64";
            p += 8;
            break;
        case 5:
            if (end - p < 4) return "truncated fixed32";
            p += 4;
            break;
        case 2:
            if (!rd_varint(&p, end, &v)) return "truncated length";
            if (v > (uint64_t)(end - p)) return "length past the end";
            if (field == 4) { e->id = p; e->id_len = v; e->has_id = 1; }
            else if (field == 6) { e->event = p; e->event_len = v; }
            p += v;
            break;
        default:
            return "unsupported wire type";
        }
    }
    return NULL;
}

static size_t put_varint(uint8_t *out, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) { out[n++] = (uint8_t)(v | 0x80); v >>= 7; }
    out[n++] = (uint8_t)v;
    return n;
}

static size_t put_bytes_field(uint8_t *out, unsigned field, const void *b, size_t len) {
    size_t n = put_varint(out, (uint64_t)field << 3 | 2);
    n += put_varint(out + n, len);
    memcpy(out + n, b, len);
    return n + len;
}

/* ---------- the events in memory ---------- */

typedef struct {
    size_t off;       /* Entry bytes: buf + off */
    uint32_t len;
    uint32_t id_off;  /* id: buf + off + id_off */
    uint32_t id_len;
} rec_t;

static uint8_t *buf;
static size_t buf_len, buf_cap;
static rec_t *recs;
static size_t nrecs, recs_cap;
static int64_t last_recorded_at_us;

static void load_source(const char *src) {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k, v;
    uint8_t prev[32] = {0}, h[32];
    char what[PATH_MAX + 64];

    check(mdb_env_create(&env), "mdb_env_create");
    check(mdb_env_set_maxdbs(env, 64), "mdb_env_set_maxdbs");
    snprintf(what, sizeof what, "mdb_env_open %s", src);
    int rc = mdb_env_open(env, src, MDB_RDONLY, 0600);
    if (rc != MDB_SUCCESS) { mdb_env_close(env); check(rc, what); }
    check(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), "mdb_txn_begin (read SRC)");
    check(mdb_dbi_open(txn, "log", 0, &dbi), "mdb_dbi_open log (SRC)");
    check(mdb_cursor_open(txn, dbi, &cur), "mdb_cursor_open (SRC)");
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        uint64_t seq = nrecs + 1;
        entry_t e;
        if (k.mv_size != 8 || rd_be64(k.mv_data) != seq)
            die("SRC log: expected key seq %" PRIu64 ", found a key of %zu bytes%s", seq, k.mv_size,
                k.mv_size == 8 ? " with another seq" : "");
        if (v.mv_size < 32 || v.mv_size - 32 > UINT32_MAX) die("SRC log: seq %" PRIu64 ": bad value size %zu", seq, v.mv_size);
        const uint8_t *bytes = (const uint8_t *)v.mv_data + 32;
        size_t len = v.mv_size - 32;
        const char *err = parse_entry(bytes, len, &e);
        if (err) die("SRC log: seq %" PRIu64 ": Entry: %s", seq, err);
        if (e.seq != seq) die("SRC log: seq %" PRIu64 ": Entry says seq %" PRIu64, seq, e.seq);
        if (!e.has_id || e.id_len == 0) die("SRC log: seq %" PRIu64 ": Entry has no id", seq);
        chain_hash(prev, bytes, len, h);
        if (memcmp(h, v.mv_data, 32) != 0) die("SRC log: seq %" PRIu64 ": stored hash does not match the chain", seq);
        memcpy(prev, h, 32);
        last_recorded_at_us = e.recorded_at_us;

        if (buf_len + len > buf_cap) {
            buf_cap = (buf_cap ? buf_cap * 2 : (size_t)1 << 20) + len;
            if (!(buf = realloc(buf, buf_cap))) die("out of memory");
        }
        if (nrecs == recs_cap) {
            recs_cap = recs_cap ? recs_cap * 2 : 4096;
            if (!(recs = realloc(recs, recs_cap * sizeof *recs))) die("out of memory");
        }
        memcpy(buf + buf_len, bytes, len);
        recs[nrecs++] = (rec_t){buf_len, (uint32_t)len, (uint32_t)(e.id - bytes), (uint32_t)e.id_len};
        buf_len += len;
    }
    if (rc != MDB_NOTFOUND) check(rc, "mdb_cursor_get (SRC log)");
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    if (nrecs == 0) die("SRC log %s holds no event", src);
}

/* ---------- the destination ---------- */

typedef struct {
    MDB_env *env;
    MDB_dbi log, ids;
    int with_ids;
    uint64_t seq;     /* last seq written */
    uint8_t prev[32]; /* its hash */
} dst_t;

static void dst_open(dst_t *d, const char *dir, int with_ids) {
    MDB_txn *txn;
    memset(d, 0, sizeof *d);
    d->with_ids = with_ids;
    if (mkdir(dir, 0700) != 0) die("mkdir %s: %s", dir, strerror(errno));
    check(mdb_env_create(&d->env), "mdb_env_create");
    check(mdb_env_set_maxdbs(d->env, 4), "mdb_env_set_maxdbs");
    check(mdb_env_set_mapsize(d->env, MAPSIZE), "mdb_env_set_mapsize");
    check(mdb_env_open(d->env, dir, 0, 0600), "mdb_env_open (scratch)");
    check(mdb_txn_begin(d->env, NULL, 0, &txn), "mdb_txn_begin");
    check(mdb_dbi_open(txn, "log", MDB_CREATE, &d->log), "mdb_dbi_open log");
    if (with_ids) check(mdb_dbi_open(txn, "ids", MDB_CREATE, &d->ids), "mdb_dbi_open ids");
    check(mdb_txn_commit(txn), "mdb_txn_commit");
}

/* Appends one entry: log (seq → hash ‖ bytes, hashed straight into LMDB's reserved space), and
 * ids (id → seq) when d->with_ids. */
static void dst_put(dst_t *d, MDB_txn *txn, const uint8_t *bytes, size_t len, const uint8_t *id, size_t id_len) {
    uint8_t key[8];
    MDB_val k = {8, key}, v = {32 + len, NULL};
    int rc;
    be64(key, ++d->seq);
    rc = mdb_put(txn, d->log, &k, &v, MDB_APPEND | MDB_RESERVE);
    if (rc != MDB_SUCCESS) die("mdb_put log seq %" PRIu64 ": %s", d->seq, mdb_strerror(rc));
    uint8_t *out = v.mv_data;
    chain_hash(d->prev, bytes, len, out);
    memcpy(out + 32, bytes, len);
    memcpy(d->prev, out, 32);
    if (d->with_ids) {
        MDB_val ik = {id_len, (void *)id}, iv = {8, key};
        rc = mdb_put(txn, d->ids, &ik, &iv, MDB_NOOVERWRITE);
        if (rc == MDB_KEYEXIST) die("mdb_put ids: id %.*s at seq %" PRIu64 " is already present", (int)id_len, (const char *)id, d->seq);
        if (rc != MDB_SUCCESS) die("mdb_put ids seq %" PRIu64 ": %s", d->seq, mdb_strerror(rc));
    }
}

/* Every loaded event into d, TXN_EVENTS a transaction; returns seconds. */
static double bulk_append(dst_t *d) {
    double t0 = now();
    for (size_t i = 0; i < nrecs;) {
        MDB_txn *txn;
        check(mdb_txn_begin(d->env, NULL, 0, &txn), "mdb_txn_begin");
        size_t end = i + TXN_EVENTS < nrecs ? i + TXN_EVENTS : nrecs;
        for (; i < end; i++) {
            const rec_t *r = &recs[i];
            const uint8_t *bytes = buf + r->off;
            dst_put(d, txn, bytes, r->len, bytes + r->id_off, r->id_len);
        }
        check(mdb_txn_commit(txn), "mdb_txn_commit");
    }
    return now() - t0;
}

static void print_written(const char *name, long long before, long long after, size_t events) {
    if (before >= 0 && after >= before)
        printf("%s %.0f bytes/event\n", name, (double)(after - before) / (double)events);
}

/* ---------- percentiles ---------- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(double *sorted, size_t n, double p) { /* nearest rank */
    size_t rank = (size_t)(p * (double)n + 0.999999999);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return sorted[rank - 1];
}

/* ---------- scans ---------- */

static volatile uint64_t sink;

typedef enum { SCAN_REHASH, SCAN_TOUCH, SCAN_KEYS } scan_kind;

static uint64_t xor_bytes(const uint8_t *p, size_t n) {
    uint64_t x = 0, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) { memcpy(&w, p + i, 8); x ^= w; }
    for (; i < n; i++) x ^= p[i];
    return x;
}

/* One read transaction over d's log; returns the number of entries, *secs the time it took. */
static size_t scan(dst_t *d, scan_kind kind, double *secs) {
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    size_t n = 0;
    uint64_t acc = 0;
    uint8_t zero[32] = {0}, h[32];
    const uint8_t *prev = zero;
    int rc = MDB_NOTFOUND;

    double t0 = now();
    check(mdb_txn_begin(d->env, NULL, MDB_RDONLY, &txn), "mdb_txn_begin (scan)");
    check(mdb_cursor_open(txn, d->log, &cur), "mdb_cursor_open (scan)");
    switch (kind) {
    case SCAN_REHASH:
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            n++;
            if (k.mv_size != 8 || rd_be64(k.mv_data) != n) die("scan: expected key seq %zu", n);
            if (v.mv_size < 32) die("scan: seq %zu: value of %zu bytes", n, v.mv_size);
            chain_hash(prev, (const uint8_t *)v.mv_data + 32, v.mv_size - 32, h);
            if (memcmp(h, v.mv_data, 32) != 0) die("scan: seq %zu: hash does not match", n);
            prev = v.mv_data; /* valid for the life of the read transaction */
        }
        break;
    case SCAN_TOUCH:
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            n++;
            acc ^= xor_bytes(k.mv_data, k.mv_size) ^ xor_bytes(v.mv_data, v.mv_size);
        }
        break;
    case SCAN_KEYS:
        for (rc = mdb_cursor_get(cur, &k, NULL, MDB_FIRST); rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &k, NULL, MDB_NEXT)) {
            n++;
            if (k.mv_size == 8) acc += rd_be64(k.mv_data);
        }
        break;
    }
    if (rc != MDB_NOTFOUND) check(rc, "mdb_cursor_get (scan)");
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    *secs = now() - t0;
    sink = acc;
    return n;
}

/* ---------- main ---------- */

int main(int argc, char **argv) {
    const char *src = NULL, *scratch_parent = NULL;
    long singles = 1000;
    char path[PATH_MAX + 32];

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--scratch") == 0) {
            if (++i == argc) usage("--scratch needs a folder", NULL);
            scratch_parent = argv[i];
        } else if (strcmp(argv[i], "--singles") == 0) {
            char *end;
            if (++i == argc) usage("--singles needs a number", NULL);
            errno = 0;
            singles = strtol(argv[i], &end, 10);
            if (errno || *end || end == argv[i] || singles < 1 || singles > 100000000)
                usage("--singles: not a number from 1: %s", argv[i]);
        } else if (strcmp(argv[i], "--keep") == 0) {
            keep_scratch = 1;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(NULL, NULL);
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            usage("unknown option %s", argv[i]);
        } else if (!src) {
            src = argv[i];
        } else {
            usage("unexpected argument %s", argv[i]);
        }
    }
    if (!src) usage("no SRC store folder given", NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* 0. The source, into memory. */
    double t0 = now();
    load_source(src);
    fprintf(stderr, "rawlmdb: read %zu events (%zu Entry bytes, %.0f per event) from %s in %.2f s\n", nrecs, buf_len,
            (double)buf_len / (double)nrecs, src, now() - t0);

    struct stat st;
    if (scratch_parent && stat(scratch_parent, &st) != 0 && errno == ENOENT) {
        /* --scratch DIR that does not exist yet: DIR itself is the scratch folder */
        if (snprintf(scratch, sizeof scratch, "%s", scratch_parent) >= (int)sizeof scratch) die("scratch path too long");
        if (mkdir(scratch, 0700) != 0) die("mkdir %s: %s", scratch, strerror(errno));
    } else {
        if (!scratch_parent) scratch_parent = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        if (snprintf(scratch, sizeof scratch, "%s/rawlmdb.XXXXXX", scratch_parent) >= (int)sizeof scratch)
            die("scratch path too long");
        if (!mkdtemp(scratch)) die("mkdtemp %s: %s", scratch, strerror(errno));
    }
    scratch_made = 1;
    atexit(cleanup);
    fprintf(stderr, "rawlmdb: scratch %s%s\n", scratch, keep_scratch ? "" : " (removed at the end)");

    printf("raw.events %zu events\n", nrecs);

    /* 1. log only. */
    dst_t a;
    snprintf(path, sizeof path, "%s/log_only", scratch);
    dst_open(&a, path, 0);
    long long w0 = write_bytes();
    double secs = bulk_append(&a);
    long long w1 = write_bytes();
    printf("raw.append.log_only %.0f events/s\n", (double)nrecs / secs);
    print_written("raw.append.log_only.written", w0, w1, nrecs);
    mdb_env_close(a.env);

    /* 2. log and ids, what civic writes. */
    dst_t d;
    snprintf(path, sizeof path, "%s/log_ids", scratch);
    dst_open(&d, path, 1);
    w0 = write_bytes();
    secs = bulk_append(&d);
    w1 = write_bytes();
    printf("raw.append.log_and_ids %.0f events/s\n", (double)nrecs / secs);
    print_written("raw.append.log_and_ids.written", w0, w1, nrecs);

    /* 3a. Single-event durable commits on top. Each is a new Entry (next seq, version 1, a later
     * store clock, a new id and subject, the event bytes of a loaded entry), encoded beforehand;
     * timed: begin, hash, put log, put ids, commit. */
    double *lat = malloc((size_t)singles * sizeof *lat);
    if (!lat) die("out of memory");
    for (long i = 0; i < singles; i++) {
        uint8_t ebuf[16 + 64 + 64 + 16];
        char id[64];
        const rec_t *r = &recs[(size_t)i % nrecs];
        entry_t e;
        parse_entry(buf + r->off, r->len, &e); /* parsed once already */
        int id_len = snprintf(id, sizeof id, "rawlmdb.single.%ld", i + 1);
        size_t need = 3 * 11 + 2 * (id_len + 11) + e.event_len + 11;
        uint8_t *entry = need <= sizeof ebuf ? ebuf : malloc(need);
        if (!entry) die("out of memory");
        size_t n = 0;
        int64_t at = last_recorded_at_us + i + 1;
        entry[n++] = 1 << 3; n += put_varint(entry + n, d.seq + 1);
        entry[n++] = 2 << 3; n += put_varint(entry + n, 1);
        entry[n++] = 3 << 3; n += put_varint(entry + n, ((uint64_t)at << 1) ^ (uint64_t)(at >> 63));
        size_t id_at = n;
        n += put_bytes_field(entry + n, 4, id, (size_t)id_len);
        n += put_bytes_field(entry + n, 5, id, (size_t)id_len);
        if (e.event_len) n += put_bytes_field(entry + n, 6, e.event, e.event_len);
        const uint8_t *idp = entry + id_at + 2; /* tag + 1-byte length: id_len < 128 */

        MDB_txn *txn;
        double s = now();
        check(mdb_txn_begin(d.env, NULL, 0, &txn), "mdb_txn_begin");
        dst_put(&d, txn, entry, n, idp, (size_t)id_len);
        check(mdb_txn_commit(txn), "mdb_txn_commit");
        lat[i] = (now() - s) * 1e3;
        if (entry != ebuf) free(entry);
    }
    qsort(lat, (size_t)singles, sizeof *lat, cmp_double);
    printf("raw.commit.single_p50_ms %.3f ms\n", percentile(lat, (size_t)singles, 0.50));
    printf("raw.commit.single_p99_ms %.3f ms\n", percentile(lat, (size_t)singles, 0.99));
    printf("raw.commit.single_max_ms %.3f ms\n", lat[singles - 1]);

    /* 3b. The disk's own flush: 4 KiB pwrite + fdatasync, in the same folder. */
    {
        static uint8_t page[4096];
        snprintf(path, sizeof path, "%s/fsync.scratch", scratch);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (fd < 0) die("open %s: %s", path, strerror(errno));
        memset(page, 0xA5, sizeof page);
        if (pwrite(fd, page, sizeof page, 0) != (ssize_t)sizeof page || fsync(fd) != 0)
            die("write %s: %s", path, strerror(errno)); /* allocate the block first: no metadata later */
        for (long i = 0; i < singles; i++) {
            page[0] = (uint8_t)i;
            double s = now();
            if (pwrite(fd, page, sizeof page, 0) != (ssize_t)sizeof page) die("pwrite %s: %s", path, strerror(errno));
            if (fdatasync(fd) != 0) die("fdatasync %s: %s", path, strerror(errno));
            lat[i] = (now() - s) * 1e3;
        }
        close(fd);
        unlink(path);
        qsort(lat, (size_t)singles, sizeof *lat, cmp_double);
        printf("raw.fsync.p50_ms %.3f ms\n", percentile(lat, (size_t)singles, 0.50));
        printf("raw.fsync.p99_ms %.3f ms\n", percentile(lat, (size_t)singles, 0.99));
        printf("raw.fsync.max_ms %.3f ms\n", lat[singles - 1]);
    }
    free(lat);

    /* 4, 5. Scans of the filled log (events + singles). */
    static const struct { scan_kind kind; const char *name; } scans[] = {
        {SCAN_REHASH, "raw.scan.rehash"}, {SCAN_TOUCH, "raw.scan.touch"}, {SCAN_KEYS, "raw.scan.keys"}};
    for (size_t i = 0; i < sizeof scans / sizeof scans[0]; i++) {
        size_t n = scan(&d, scans[i].kind, &secs);
        if (n != d.seq) die("%s: scanned %zu entries, expected %" PRIu64, scans[i].name, n, d.seq);
        printf("%s %.0f events/s\n", scans[i].name, (double)n / secs);
    }

    mdb_env_close(d.env);
    free(buf);
    free(recs);
    return 0; /* cleanup() removes the scratch folder */
}
