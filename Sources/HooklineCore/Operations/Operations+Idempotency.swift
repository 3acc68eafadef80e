import Foundation

extension Operations {
    /// How long a key's request may stay under way before another request with the key takes it
    /// over (the first one crashed).
    public static let idempotencyTakeoverAfter: TimeInterval = 60

    /// Runs a request that creates something at most once per idempotency key of `scope`.
    ///
    /// With no key, `create` runs. With a key: the first request runs `create` and records the id
    /// it returns; a repeat with the same `request` gets `original(id)` and creates nothing; the
    /// same key with another request is a conflict, as is a repeat while the first is under way.
    /// A failed `create` gives the key back.
    ///
    /// - Returns: the resource, and whether it is the original of an earlier request.
    public func idempotently<T: Sendable>(
        key: String?, scope: String, request: [String],
        create: () async throws(HooklineError) -> (resource: T, id: String),
        original: (String) async throws(HooklineError) -> T
    ) async throws(HooklineError) -> (resource: T, repeated: Bool) {
        guard let key else { return (try await create().resource, false) }
        try IdempotencyKey.validate(key)
        let hash = IdempotencyKey.requestHash(request)
        let now = clock.now()
        let claim = try await store.claimIdempotencyKey(
            scope: scope, key: key, requestHash: hash, at: now, staleBefore: now.addingTimeInterval(-Self.idempotencyTakeoverAfter))
        switch claim {
        case .claimed:
            let created: (resource: T, id: String)
            do {
                created = try await create()
            } catch {
                try? await store.releaseIdempotencyKey(scope: scope, key: key)
                throw error
            }
            try await store.completeIdempotencyKey(scope: scope, key: key, resourceID: created.id)
            return (created.resource, false)
        case .taken(let takenHash, let resourceID):
            let shown = Identifier.printable(key)
            guard takenHash == hash else {
                throw .conflict("The Idempotency-Key '\(shown)' was used for another request; send a new key for a new request.")
            }
            guard let resourceID else {
                throw .conflict("A request with the Idempotency-Key '\(shown)' is still under way; retry it in a moment.")
            }
            return (try await original(resourceID), true)
        }
    }
}
