import NIOCore
import STUN

/// The local endpoints: looking one up by a pair's id, and the candidates they are the bases of.
extension ICEAgent {
    /// A permission a relay endpoint has installed on its TURN server for one peer address.
    struct RelayPermission: Hashable {
        var endpoint: LocalEndpoint.ID
        var peer: IPAddress
    }

    /// An identity for an endpoint about to be made; its receive callback carries it from the start.
    func makeEndpointID() -> LocalEndpoint.ID {
        defer { nextEndpointID += 1 }
        return nextEndpointID
    }

    func endpoint(_ id: LocalEndpoint.ID) -> LocalEndpoint? {
        endpoints.first { $0.id == id }
    }

    /// Host and relayed candidates, in the order their endpoints were made (the ones that are paired).
    var localCandidates: [Candidate] { endpoints.map(\.candidate) }

    /// The selected-pair event for a pair: its candidates and, when relayed, our TURN server.
    func selectedPairEvent(_ pair: CandidatePair) -> ICEAgentEvent {
        .selectedPairChanged(path(of: pair))
    }

    /// A pair as its owner sees a path: both candidates and the TURN server ours relays through.
    func path(of pair: CandidatePair) -> SelectedPair {
        SelectedPair(local: pair.local, remote: pair.remote, relay: endpoint(pair.endpoint)?.relay?.configuration)
    }

    /// Sends a STUN message from one of our endpoints. Peers must pass the remote address filter;
    /// configured servers need not.
    func write(_ bytes: [UInt8], from endpointID: LocalEndpoint.ID, to address: TransportAddress, checkFilter: Bool = true) {
        guard !checkFilter || configuration.remoteAddressFilter(address.ip), let endpoint = endpoint(endpointID) else { return }
        endpoint.sendSTUN(bytes, to: address)
    }
}
