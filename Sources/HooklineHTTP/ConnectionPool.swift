import NIOCore
import Synchronization

/// Where a connection goes, which is what may share it.
enum Route: Hashable, Sendable {
    /// Straight to the receiver, over TLS or not.
    case direct(host: String, port: Int, tls: Bool)
    /// To the egress proxy, carrying plain-HTTP requests in absolute form for any receiver.
    case proxied
    /// Through the egress proxy's CONNECT tunnel to the receiver, TLS end to end.
    case tunnel(host: String, port: Int)
}

/// An open keep-alive connection and the handler that runs its exchanges.
final class PooledConnection: Sendable {
    let id: Int
    let route: Route
    let channel: any Channel
    let handler: NIOLoopBound<ExchangeHandler>

    init(id: Int, route: Route, channel: any Channel, handler: NIOLoopBound<ExchangeHandler>) {
        self.id = id
        self.route = route
        self.channel = channel
        self.handler = handler
    }
}

/// Keep-alive connections per route, at most `limit` open per route; a request beyond that waits
/// for one to come back, until its deadline. The state is a dictionary under a lock, touched for
/// a few instructions per request; a route with nothing open and no one waiting is forgotten,
/// so that memory grows with the connections open, not with the endpoints ever seen.
final class ConnectionPool: Sendable {
    /// What a request gets from the pool.
    enum Lease: Sendable {
        /// An idle connection, already used for earlier requests.
        case reuse(PooledConnection)
        /// Permission to open a new connection (it counts against the limit until ``release`` or ``retire``).
        case connect
        /// The deadline came before a connection was free.
        case timedOut
        /// The pool is shut down.
        case shutDown
    }

    private struct Waiter {
        var id: Int
        var continuation: CheckedContinuation<Lease, Never>
    }

    private struct RouteState {
        var idle: [PooledConnection] = []
        /// Connections open or being opened.
        var open = 0
        var live = Set<Int>()
        var waiters: [Waiter] = []

        var isUnused: Bool { open == 0 && waiters.isEmpty }
    }

    private struct State {
        var routes: [Route: RouteState] = [:]
        var nextID = 0
        var isShutDown = false
    }

    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// A fresh identity for a new connection.
    func nextID() -> Int {
        state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
    }

    /// An idle connection for `route`, or permission to open one, or a wait until one is free.
    func checkout(_ route: Route, deadline: NIODeadline, on eventLoop: any EventLoop) async -> Lease {
        enum Immediate { case lease(Lease), wait(Int) }
        let immediate: Immediate = state.withLock { state in
            if state.isShutDown { return .lease(.shutDown) }
            var entry = state.routes[route, default: RouteState()]
            defer { state.routes[route] = entry }
            while let connection = entry.idle.popLast() {
                if connection.channel.isActive { return .lease(.reuse(connection)) }
                if entry.live.remove(connection.id) != nil { entry.open -= 1 }
            }
            if entry.open < limit {
                entry.open += 1
                return .lease(.connect)
            }
            state.nextID += 1
            return .wait(state.nextID)
        }
        switch immediate {
        case .lease(let lease):
            return lease
        case .wait(let waiterID):
            return await withCheckedContinuation { continuation in
                let queued = state.withLock { state in
                    guard !state.isShutDown else { return false }
                    state.routes[route, default: RouteState()].waiters.append(Waiter(id: waiterID, continuation: continuation))
                    return true
                }
                guard queued else {
                    continuation.resume(returning: .shutDown)
                    return
                }
                eventLoop.scheduleTask(deadline: deadline) { [self] in
                    let waiter: Waiter? = state.withLock { state in
                        guard var entry = state.routes[route], let index = entry.waiters.firstIndex(where: { $0.id == waiterID }) else { return nil }
                        let waiter = entry.waiters.remove(at: index)
                        state.routes[route] = entry.isUnused ? nil : entry
                        return waiter
                    }
                    waiter?.continuation.resume(returning: .timedOut)
                }
            }
        }
    }

    /// A connection opened under a ``Lease/connect`` permission now counts as live.
    func register(_ connection: PooledConnection) {
        state.withLock { state in
            _ = state.routes[connection.route, default: RouteState()].live.insert(connection.id)
        }
    }

    /// Gives a connection back after a complete exchange: to a waiter, or to the idle list.
    func checkin(_ connection: PooledConnection) {
        let waiter: Waiter? = state.withLock { state in
            guard var entry = state.routes[connection.route], entry.live.contains(connection.id) else { return nil }
            defer { state.routes[connection.route] = entry }
            if !entry.waiters.isEmpty { return entry.waiters.removeFirst() }
            entry.idle.append(connection)
            return nil
        }
        waiter?.continuation.resume(returning: .reuse(connection))
    }

    /// A ``Lease/connect`` permission that did not become a connection.
    func release(_ route: Route) {
        handOff(route) { entry in entry.open -= 1 }
    }

    /// A connection that closed or must not be used again: it stops counting against the limit.
    func retire(_ connection: PooledConnection) {
        handOff(connection.route) { entry in
            if entry.live.remove(connection.id) != nil {
                entry.open -= 1
                entry.idle.removeAll { $0.id == connection.id }
            }
        }
    }

    /// Applies `change`, then lets the first waiter open a connection if there is room now.
    private func handOff(_ route: Route, _ change: (inout RouteState) -> Void) {
        let waiter: Waiter? = state.withLock { state in
            guard var entry = state.routes[route] else { return nil }
            change(&entry)
            var waiter: Waiter?
            if entry.open < limit, !entry.waiters.isEmpty {
                waiter = entry.waiters.removeFirst()
                entry.open += 1
            }
            state.routes[route] = entry.isUnused ? nil : entry
            return waiter
        }
        waiter?.continuation.resume(returning: .connect)
    }

    /// Refuses new requests, wakes every waiter and returns the idle connections to close.
    func shutDown() -> [PooledConnection] {
        let (idle, waiters): ([PooledConnection], [Waiter]) = state.withLock { state in
            state.isShutDown = true
            let idle = state.routes.values.flatMap(\.idle)
            let waiters = state.routes.values.flatMap(\.waiters)
            for route in Array(state.routes.keys) {
                state.routes[route]?.idle = []
                state.routes[route]?.waiters = []
            }
            return (idle, waiters)
        }
        for waiter in waiters { waiter.continuation.resume(returning: .shutDown) }
        return idle
    }

    /// Connections open and routes held, for tests and benchmarks.
    var counts: (open: Int, routes: Int) {
        state.withLock { state in (state.routes.values.reduce(0) { $0 + $1.open }, state.routes.count) }
    }
}
