import Foundation

/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`, the `--cluster` argument of `icestat signal`.
public struct ClusterDatabaseURL: Sendable, Hashable, CustomStringConvertible {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String

    /// Why a URL was refused, worded for the operator.
    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    public init(_ text: String) throws(Problem) {
        guard let url = URLComponents(string: text), let scheme = url.scheme,
              scheme == "postgres" || scheme == "postgresql" else {
            throw Problem(description: "expected postgres://USER@HOST:PORT/DATABASE, got '\(text)'")
        }
        guard let user = url.user, !user.isEmpty else { throw Problem(description: "\(text): no user (postgres://USER@HOST/DB)") }
        guard let host = url.host, !host.isEmpty else { throw Problem(description: "\(text): no host") }
        let database = String(url.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { throw Problem(description: "\(text): no database name (…/DB)") }
        if let port = url.port, !(1...65535).contains(port) { throw Problem(description: "\(text): bad port") }
        self.user = user.removingPercentEncoding ?? user
        password = url.password.map { $0.removingPercentEncoding ?? $0 }
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        port = url.port ?? 5432
        self.database = database.removingPercentEncoding ?? database
    }

    /// The URL without its password, for logs and status.
    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(user)@\(h):\(port)/\(database)"
    }
}
