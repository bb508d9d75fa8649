import Foundation
import Yams

/// The YAML file of `icestat up --config FILE`, as written; ``AgentConfigLoader`` checks it and turns it into
/// a `MeshConfiguration`. The commented example is `examples/agent.yaml`.
struct AgentConfigFile: Decodable, Equatable {
    struct TURN: Decodable, Equatable {
        var url: String
        var username: String
        var password: String
        /// For `turns:`: a PEM file of the CAs the server's certificate must chain to (default: the system's).
        var ca_file: String?
    }

    struct ICE: Decodable, Equatable {
        var check_interval: String?
        var consent_interval: String?
        var disconnected_timeout: String?
        var failed_timeout: String?
        var checking_timeout: String?
        var gathering_timeout: String?
        var relay_nomination_delay: String?
        var relay_only: Bool?
        var interfaces: [String]?
        var exclude_interface_prefixes: [String]?
        var addresses: [String]?
        var include_loopback: Bool?
        var ipv6: Bool?
        var port: Int?
    }

    struct Peer: Decodable, Equatable {
        var name: String
        var public_key: String
        var local_port: Int
        var service: String?
    }

    var name: String?
    var key_file: String
    /// `HOST:PORT`, or a list of them: nodes of one signal cluster, tried in order.
    var signal: SignalServerList
    var stun: [String]?
    var turn: [TURN]?
    var listen: String?
    var lazy: Bool?
    var inactivity_threshold: String?
    var status_socket: String?
    /// `HOST:PORT` of the Prometheus endpoint (`/metrics`); off when absent.
    var metrics_listen: String?
    /// Adds series labelled by peer name.
    var metrics_per_peer: Bool?
    var network_check_interval: String?
    /// Kernel buffer of each data socket: `2MiB`, `512KiB`, a byte count, or `0` for the system's default.
    var socket_buffer: String?
    var ice: ICE?
    var routed_networks: [String]?
    var peers: [Peer]
}

/// `signal:` as written: one `HOST:PORT` string, or a list of them.
struct SignalServerList: Decodable, Equatable {
    var addresses: [String]

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let one = try? container.decode(String.self) {
            addresses = [one]
        } else {
            addresses = try container.decode([String].self)
        }
    }
}
