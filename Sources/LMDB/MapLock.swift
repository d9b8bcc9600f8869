import Foundation

/// Guards the memory map of one environment within this process.
///
/// liblmdb may change the map size (`mdb_env_set_mapsize`: growing it, or adopting a size another
/// process set) only while no transaction of this process is active, and it does not check. So every
/// transaction holds this lock shared for as long as it lives, and a resize takes it exclusively,
/// waiting for the transactions of other threads to end.
///
/// A thread must not resize while it holds a transaction itself: never begin a write inside a read.
final class MapLock: @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        lock = .allocate(capacity: 1)
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    /// Taken by a transaction for its lifetime.
    func share() { pthread_rwlock_rdlock(lock) }
    /// Taken to resize the map.
    func own() { pthread_rwlock_wrlock(lock) }
    func release() { pthread_rwlock_unlock(lock) }
}
