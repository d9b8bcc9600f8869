import Foundation

/// The rules of holding transactions, checked in debug builds (release builds check nothing and pay
/// nothing), in the manner of swift-nio's `preconditionInEventLoop`:
///
/// - never begin a write inside a read: the write may resize the map, which waits for every read of
///   this process to end, this thread's own included;
/// - hold no transaction while waiting for another thread (`assertNoneOpen` before the wait): the other
///   thread may be waiting to resize the map;
/// - transactions are counted per thread, begun and ended on the same thread.
public enum TransactionDiscipline {
    #if DEBUG
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    private static var count: Int {
        get { Int(bitPattern: pthread_getspecific(key)) }
        set { pthread_setspecific(key, UnsafeRawPointer(bitPattern: newValue)) }
    }
    #endif

    static func opened() {
        #if DEBUG
        count += 1
        #endif
    }

    static func closed() {
        #if DEBUG
        assert(count > 0, "a transaction ended that this thread did not begin")
        count -= 1
        #endif
    }

    /// How many transactions this thread holds (debug builds; 0 in release builds).
    public static var openOnThisThread: Int {
        #if DEBUG
        count
        #else
        0
        #endif
    }

    /// Asserts (in debug builds) that this thread holds no transaction: call it before waiting for
    /// another thread, and before anything that may resize the map.
    public static func assertNoneOpen(_ rule: @autoclosure () -> String = "hold no transaction while waiting") {
        #if DEBUG
        assert(count == 0, rule())
        #endif
    }
}
