import Foundation

/// Reads the data file's pages after those in use into the page cache, on a thread of its own, while a
/// large write into the map (`MDB_WRITEMAP`) goes on (docs/performance.md, "Append of the file").
///
/// The blocks after the pages in use were given to the file ahead of the write (`posix_fallocate`), so
/// they read as zeros: the first touch of each page by the writer would stop it while the kernel zeroes
/// the page (~7% of the writing thread's time on a 1M-event file). Read ahead here, the page is
/// zeroed on the other core and the writer finds it in the cache. The pages read belong to the cache,
/// not to the process (they count in no one's memory until touched), are clean, and those the write
/// does not use are the kernel's to drop; `releaseUnused` gives their blocks back.
public final class PageWarmer: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false

    /// Starts reading `file` from byte `start` to `end`, a chunk at a time, until done or stopped.
    init(file: String, from start: Int, to end: Int, chunk: Int = 8 << 20) {
        guard end > start else { return }
        let thread = Thread { [self] in
            let fd = open(file, O_RDONLY)
            guard fd >= 0 else { return }
            defer { close(fd) }
            var offset = start
            while offset < end, !lock.withLock({ stopped }) {
                let length = min(chunk, end - offset)
                // Reads the range into the cache in this thread (the blocks hold no data: no disk read).
                _ = posix_fadvise(fd, off_t(offset), off_t(length), POSIX_FADV_WILLNEED)
                offset += length
            }
        }
        thread.name = "civic-page-warmer"
        thread.start()
    }

    /// Stops reading ahead (the write is over).
    public func stop() { lock.withLock { stopped = true } }
}

extension Environment {
    /// Reads ahead the `bytes` after the pages in use (no further than the map's end), for a large write
    /// into the map; nil when pages are not written into the map (then liblmdb writes whole pages itself).
    public func warmPagesAhead(bytes: Int) -> PageWarmer? {
        guard writesMap, !isReadOnly else { return nil }
        let used = usedBytes
        return PageWarmer(file: path + "/data.mdb", from: used, to: min(mapSize, used + bytes))
    }
}
