import NIOConcurrencyHelpers
import NIOCore

/// At most `limit` connections at once: one more is closed as it opens. With the idle timeout (which
/// also cuts a connection whose request head does not arrive in time), this bounds what connections
/// can hold, whatever clients do (docs/server.md, "Under load").
final class ConnectionLimit: Sendable {
    let limit: Int
    private let open = NIOLockedValueBox(0)

    init(limit: Int) { self.limit = limit }

    var count: Int { open.withLockedValue { $0 } }

    /// The handler each connection gets.
    func handler() -> Counted { Counted(self) }

    fileprivate func enter() -> Bool {
        open.withLockedValue { n in
            guard n < limit else { return false }
            n += 1
            return true
        }
    }

    fileprivate func leave() { open.withLockedValue { $0 -= 1 } }

    final class Counted: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny
        private let limit: ConnectionLimit
        private var counted = false

        fileprivate init(_ limit: ConnectionLimit) { self.limit = limit }

        func handlerAdded(context: ChannelHandlerContext) {
            if context.channel.isActive { admit(context) }
        }

        func channelActive(context: ChannelHandlerContext) {
            admit(context)
            context.fireChannelActive()
        }

        private func admit(_ context: ChannelHandlerContext) {
            guard !counted else { return }
            if limit.enter() { counted = true } else { context.close(promise: nil) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            if counted { limit.leave(); counted = false }
            context.fireChannelInactive()
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            if counted { limit.leave(); counted = false }
        }
    }
}

/// Closes a connection whose client has taken nothing of what was written to it for `timeout`: the
/// socket stays unwritable while a client does not read. Without it a client that never reads would
/// hold its connection (and the response waiting for it) for ever.
final class StalledReaderCutoff: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private let timeout: TimeAmount
    private var pending: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            pending?.cancel()
            pending = nil
        } else if pending == nil {
            let channel = context.channel
            pending = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        pending?.cancel()
        pending = nil
        context.fireChannelInactive()
    }
}
