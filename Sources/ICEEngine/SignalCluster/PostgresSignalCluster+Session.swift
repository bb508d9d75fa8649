import Logging
import NIOCore
import PostgresNIO
import Signal

extension PostgresSignalCluster {
    static let presenceChannel = "icestat_presence"

    /// Keeps a database session up until stopped: connect, join, serve; on any failure, back off and again.
    func run() async {
        var backoff: Duration = .milliseconds(500)
        var attempt = 0
        while !Task.isCancelled, !state.withLock({ $0.stopped }) {
            attempt += 1
            if attempt > 1 { state.withLock { $0.reconnects += 1 } }
            do {
                let connection = try await PostgresConnection.connect(
                    on: eventLoop, configuration: postgresConfiguration, id: attempt, logger: Self.quietLogger)
                backoff = .milliseconds(500)
                do {
                    try await serve(on: connection)
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { break }
                becomeUnavailable(because: "database unavailable: \(Self.describe(error))")
            }
            if Task.isCancelled || state.withLock({ $0.stopped }) { break }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
        await leave()
    }

    private var postgresConfiguration: PostgresConnection.Configuration {
        let db = configuration.database
        var config = PostgresConnection.Configuration(host: db.host, port: db.port, username: db.user,
                                                      password: db.password, database: db.database, tls: .disable)
        config.options.connectTimeout = .seconds(5)
        return config
    }

    /// One database session: listen, join, then heartbeats and deliveries until the connection fails.
    private func serve(on connection: PostgresConnection) async throws {
        try await ClusterSchema.migrate(on: connection, logger: Self.quietLogger)
        let (wakeStream, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let (readyStream, ready) = AsyncStream<Void>.makeStream()
        try await withThrowingTaskGroup(of: Void.self) { group in
            defer { group.cancelAll() }
            group.addTask {
                try await connection.listen(on: ClusterNodeID.channel(self.nodeID)) { notifications in
                    ready.yield()
                    for try await notification in notifications { self.handleMessages(notification.payload) }
                }
                throw ClusterSessionEnded()
            }
            group.addTask {
                try await connection.listen(on: Self.presenceChannel) { notifications in
                    ready.yield()
                    for try await notification in notifications where self.handlePresence(notification.payload) {
                        try await self.join(on: connection)
                    }
                }
                throw ClusterSessionEnded()
            }
            var iterator = readyStream.makeAsyncIterator()
            _ = await iterator.next()
            _ = await iterator.next()
            try await join(on: connection)
            state.withLock { s in
                s.wake = wake
                s.available = true
                s.databaseState = "connected"
                s.usableSince = .now
                s.lastHeartbeat = .now
            }
            logger.info("cluster: node \(nodeID) joined through \(configuration.database)")
            wake.yield()
            group.addTask { try await self.heartbeats(on: connection) }
            group.addTask { try await self.watchdog(on: connection) }
            group.addTask {
                for await _ in wakeStream { try await self.flush(on: connection) }
                throw ClusterSessionEnded()
            }
            try await group.next()
        }
    }

    /// Registers the node, re-announces every local agent and reloads where the others are.
    func join(on connection: PostgresConnection) async throws {
        let logger = Self.quietLogger
        try await connection.query("""
            INSERT INTO icestat_nodes (id, address, started, heartbeat) VALUES (\(nodeID), \(configuration.advertisedAddress), now(), now())
            ON CONFLICT (id) DO UPDATE SET address = EXCLUDED.address, heartbeat = now()
            """, logger: logger)
        let keys = state.withLock { s -> [[UInt8]] in
            s.pendingPresence = [:]
            return s.node?.registeredKeys() ?? []
        }
        beginJoin()
        let left = try await ClusterSchema.replacePresence(keys, node: nodeID, on: connection, logger: logger)
        try await ClusterSchema.notify(keys.map { .online(node: nodeID, key: $0) } + left.map { .offline(node: nodeID, key: $0) },
                                       on: connection, logger: logger)
        var fresh: [[UInt8]: String] = [:]
        let rows = try await connection.query("SELECT key, node FROM icestat_presence WHERE node <> \(nodeID)", logger: logger)
        for try await (key, node) in rows.decode((String, String).self) {
            if let bytes = ClusterNotice.key(Substring(key)) { fresh[bytes] = node }
        }
        replaceElsewhere(with: fresh)
        try await refreshNodes(on: connection)
    }

    /// Refreshes the heartbeat, re-joins if another node declared this one dead, and declares dead the nodes
    /// whose heartbeat is too old, once this session has been up for a whole timeout.
    private func heartbeats(on connection: PostgresConnection) async throws {
        let logger = Self.quietLogger
        let timeoutSeconds = Double(configuration.nodeTimeout.components.seconds)
            + Double(configuration.nodeTimeout.components.attoseconds) / 1e18
        while true {
            try await Task.sleep(for: configuration.heartbeatInterval)
            let rows = try await connection.query(
                "UPDATE icestat_nodes SET heartbeat = now() WHERE id = \(nodeID) RETURNING id", logger: logger)
            var found = false
            for try await _ in rows { found = true }
            if !found {
                self.logger.warning("cluster: this node's registration was removed (declared dead); registering again")
                try await join(on: connection)
            }
            let since = state.withLock { $0.usableSince }
            if let since, since.duration(to: .now) >= configuration.nodeTimeout {
                let dead = try await connection.query("""
                    WITH dead AS (DELETE FROM icestat_nodes WHERE id <> \(nodeID)
                                  AND heartbeat < now() - make_interval(secs => \(timeoutSeconds)) RETURNING id),
                         gone AS (DELETE FROM icestat_presence WHERE node IN (SELECT id FROM dead))
                    SELECT id, pg_notify('icestat_presence', 'dead ' || id)::text FROM dead
                    """, logger: logger)
                for try await (id, _) in dead.decode((String, String).self) {
                    state.withLock { $0.deadDeclared += 1 }
                    self.logger.warning("cluster: node \(id) missed its heartbeats for \(configuration.nodeTimeout); declared dead")
                    nodeGone(id)
                }
            }
            try await refreshNodes(on: connection)
            state.withLock { $0.lastHeartbeat = .now }
        }
    }

    /// Ends the session when no heartbeat round has completed for a node timeout: a connection that the server
    /// dropped without the client noticing would otherwise leave queries waiting forever, and this node
    /// silently declared dead by the others. Closing it fails what waits on it, and the session starts over.
    private func watchdog(on connection: PostgresConnection) async throws {
        while true {
            try await Task.sleep(for: configuration.heartbeatInterval)
            guard let last = state.withLock({ $0.lastHeartbeat }), last.duration(to: .now) > configuration.nodeTimeout else { continue }
            logger.warning("cluster: no heartbeat round for \(configuration.nodeTimeout); closing the database connection")
            try? await connection.close()
            throw ClusterHeartbeatStalled(timeout: configuration.nodeTimeout)
        }
    }

    private func refreshNodes(on connection: PostgresConnection) async throws {
        let rows = try await connection.query("""
            SELECT n.id, n.address, (SELECT count(*) FROM icestat_presence p WHERE p.node = n.id)::int8,
                   (extract(epoch FROM now() - n.heartbeat) * 1000)::int8
            FROM icestat_nodes n ORDER BY n.id
            """, logger: Self.quietLogger)
        var nodes: [SignalClusterStatus.Node] = []
        for try await (id, address, peers, age) in rows.decode((String, String, Int64, Int64).self) {
            nodes.append(.init(id: id, address: address, peers: Int(peers), heartbeatAgeMillis: Int(age)))
        }
        state.withLock { $0.nodes = nodes }
    }

    /// Sends what is pending: presence changes (recorded, then announced) and sealed bodies, packed into as few
    /// notifications as fit, all in one statement.
    private func flush(on connection: PostgresConnection) async throws {
        let (presence, messages) = state.withLock { s in
            defer { s.pendingPresence = [:]; s.pendingMessages = [:] }
            return (s.pendingPresence, s.pendingMessages)
        }
        let logger = Self.quietLogger
        if !presence.isEmpty {
            try await ClusterSchema.announce(presence.map { ($0.key, $0.value) }, node: nodeID, on: connection, logger: logger)
        }
        guard !messages.isEmpty else { return }
        var channels: [String] = [], payloads: [String] = []
        for (node, lines) in messages {
            for payload in ClusterNotice.pack(lines) {
                channels.append(ClusterNodeID.channel(node))
                payloads.append(payload)
            }
        }
        do {
            try await connection.query(
                "SELECT pg_notify(c, p) FROM unnest(\(channels)::text[], \(payloads)::text[]) AS t(c, p)", logger: logger)
            state.withLock { $0.notifications += payloads.count }
        } catch {
            drop(messages.values.reduce(0) { $0 + $1.count }, "database connection lost while sending")
            throw error
        }
    }

    private func becomeUnavailable(because reason: String) {
        let (wasAvailable, lost) = state.withLock { s -> (Bool, Int) in
            let was = s.available
            s.available = false
            s.databaseState = reason
            s.usableSince = nil
            s.wake = nil
            s.joinJournal = nil
            let lost = s.pendingMessages.values.reduce(0) { $0 + $1.count }
            s.pendingMessages = [:]
            return (was, lost)
        }
        if lost > 0 { drop(lost, "database connection lost while sending") }
        if wasAvailable { logger.error("cluster: \(reason); serving local agents only, retrying") }
        else { logger.debug("cluster: \(reason)") }
    }

    /// On a clean stop: this node and its agents leave the tables at once, so the others need not wait.
    private func leave() async {
        state.withLock { $0.available = false; $0.wake = nil }
        guard let connection = try? await PostgresConnection.connect(
            on: eventLoop, configuration: postgresConfiguration, id: 0, logger: Self.quietLogger) else { return }
        let logger = Self.quietLogger
        _ = try? await connection.query("""
            WITH n AS (DELETE FROM icestat_nodes WHERE id = \(nodeID)),
                 p AS (DELETE FROM icestat_presence WHERE node = \(nodeID))
            SELECT pg_notify('icestat_presence', 'dead ' || \(nodeID)::text)::text
            """, logger: logger)
        try? await connection.close()
    }

    static func describe(_ error: Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            if let underlying = error.underlying { return "\(underlying)" }
            return "\(error.code)"
        }
        return "\(error)"
    }

    /// postgres-nio's own logs are too chatty for an operator; failures reach the node's log through ours.
    static let quietLogger = Logger(label: "icestat.signal.postgres") { _ in SwiftLogNoOpLogHandler() }
}

/// A listening or sending loop ended with its connection.
struct ClusterSessionEnded: Error, CustomStringConvertible {
    var description: String { "connection closed" }
}

/// The session's heartbeats stopped answering for a node timeout.
struct ClusterHeartbeatStalled: Error, CustomStringConvertible {
    let timeout: Duration
    var description: String { "no heartbeat answered for \(timeout)" }
}
