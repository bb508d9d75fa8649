import Logging
import PostgresNIO

/// The cluster's tables, created or migrated by each node when it connects, under an advisory lock so that
/// nodes starting together do not race.
///
/// - `icestat_schema (version)`: the schema version (1).
/// - `icestat_nodes (id, address, started, heartbeat)`: the nodes; a heartbeat older than the node timeout
///   means the node is dead.
/// - `icestat_presence (key, node, since)`: where each registered agent is (base64 key → node id).
enum ClusterSchema {
    static let version = 1
    /// The advisory lock taken while creating or migrating (any fixed number of ours).
    private static let lock: Int64 = 0x1CE5_7A7

    static func migrate(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT pg_advisory_lock(\(lock))", logger: logger)
        do {
            try await connection.query("CREATE TABLE IF NOT EXISTS icestat_schema (version int NOT NULL)", logger: logger)
            var current = 0
            for try await (v,) in try await connection.query("SELECT coalesce(max(version), 0) FROM icestat_schema",
                                                             logger: logger).decode((Int32,).self) {
                current = Int(v)
            }
            guard current <= version else {
                throw ClusterSchemaError(description: "the database holds schema version \(current), newer than this icestat's \(version)")
            }
            if current < 1 {
                try await connection.query("""
                    CREATE TABLE IF NOT EXISTS icestat_nodes (
                        id text PRIMARY KEY, address text NOT NULL,
                        started timestamptz NOT NULL, heartbeat timestamptz NOT NULL)
                    """, logger: logger)
                try await connection.query("""
                    CREATE TABLE IF NOT EXISTS icestat_presence (
                        key text PRIMARY KEY, node text NOT NULL, since timestamptz NOT NULL)
                    """, logger: logger)
                try await connection.query("CREATE INDEX IF NOT EXISTS icestat_presence_node ON icestat_presence (node)",
                                           logger: logger)
                try await connection.query("INSERT INTO icestat_schema (version) VALUES (1)", logger: logger)
            }
        } catch {
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(lock))", logger: logger)
            throw error
        }
        try await connection.query("SELECT pg_advisory_unlock(\(lock))", logger: logger)
    }

    /// Records arrivals and departures of `node`'s agents and announces them on the presence channel.
    static func announce(_ changes: [([UInt8], Bool)], node: String, on connection: PostgresConnection,
                         logger: Logger) async throws {
        let online = changes.filter(\.1).map { ClusterNotice.base64($0.0) }
        let offline = changes.filter { !$0.1 }.map { ClusterNotice.base64($0.0) }
        if !online.isEmpty {
            try await connection.query("""
                INSERT INTO icestat_presence (key, node, since) SELECT k, \(node), now() FROM unnest(\(online)::text[]) AS k
                ON CONFLICT (key) DO UPDATE SET node = EXCLUDED.node, since = EXCLUDED.since
                """, logger: logger)
        }
        if !offline.isEmpty {
            try await connection.query(
                "DELETE FROM icestat_presence WHERE node = \(node) AND key = ANY(\(offline)::text[])", logger: logger)
        }
        try await notify(changes.map { $0.1 ? .online(node: node, key: $0.0) : .offline(node: node, key: $0.0) }, on: connection, logger: logger)
    }

    /// Makes `node`'s rows exactly `keys`, in one statement, so that a node reading the table meanwhile never sees
    /// an agent that stayed here missing; returns the keys whose rows went (agents that left while the database
    /// was away).
    static func replacePresence(_ keys: [[UInt8]], node: String, on connection: PostgresConnection,
                                logger: Logger) async throws -> [[UInt8]] {
        let encoded = keys.map { ClusterNotice.base64($0) }
        let rows = try await connection.query("""
            WITH gone AS (DELETE FROM icestat_presence WHERE node = \(node) AND NOT (key = ANY(\(encoded)::text[])) RETURNING key),
                 here AS (INSERT INTO icestat_presence (key, node, since) SELECT k, \(node), now() FROM unnest(\(encoded)::text[]) AS k
                          ON CONFLICT (key) DO UPDATE SET node = EXCLUDED.node, since = EXCLUDED.since)
            SELECT key FROM gone
            """, logger: logger)
        var left: [[UInt8]] = []
        for try await (key,) in rows.decode((String,).self) {
            if let bytes = ClusterNotice.key(Substring(key)) { left.append(bytes) }
        }
        return left
    }

    /// Announces presence notices on the presence channel, packed into as few payloads as fit.
    static func notify(_ notices: [ClusterNotice], on connection: PostgresConnection, logger: Logger) async throws {
        let payloads = ClusterNotice.pack(notices.map(\.line))
        guard !payloads.isEmpty else { return }
        try await connection.query(
            "SELECT pg_notify('icestat_presence', p) FROM unnest(\(payloads)::text[]) AS p", logger: logger)
    }
}

struct ClusterSchemaError: Error, CustomStringConvertible {
    var description: String
}
