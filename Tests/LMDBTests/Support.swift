import Foundation

/// A fresh temporary folder for one test, removed with everything in it when the test lets it go.
final class TemporaryFolder: @unchecked Sendable {
    /// A path inside the system's temporary folder that does not exist yet.
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("civic-lmdb-test-\(UUID().uuidString)").path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The UTF-8 bytes of `text`, for keys and values.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// `count` bytes, each `byte`.
func filler(_ count: Int, _ byte: UInt8 = 0xAB) -> [UInt8] { [UInt8](repeating: byte, count: count) }

/// A test's own error, thrown from inside a transaction.
struct Abandon: Error, Equatable {}
