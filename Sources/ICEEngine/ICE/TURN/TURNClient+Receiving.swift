import NIOCore
import STUN

/// What comes back from the server: ChannelData and Data indications for the peers, responses for the
/// pending requests.
extension TURNClient {
    // MARK: Receiving

    /// A datagram or stream frame from the server: ChannelData (told by its channel number) goes on as a slice
    /// of its payload, uncopied; anything else is parsed as STUN, which drops what is neither.
    func receive(from: TransportAddress, buffer: ByteBuffer) {
        guard from == server, !closed else { return }
        if let (number, data) = ChannelData.decode(buffer) {
            if let peer = channelPeers[number] { onData(peer, data) }
            return
        }
        receiveSTUN(Array(buffer.readableBytesView))
    }

    func receiveSTUN(_ bytes: [UInt8]) {
        guard let message = try? STUNMessage(decoding: bytes) else { return }
        if message.contains(.fingerprint), !message.hasValidFingerprint { return }
        if message.type.messageClass == .indication {
            if message.type.method == .data, let peer = message.xorAddress(.xorPeerAddress), let data = message.data {
                onData(peer, ByteBuffer(bytes: data))
            }
            return
        }
        guard var p = pending[message.transactionID] else { return }
        // Responses to authenticated requests must carry valid integrity, except 401 and 438, which a server
        // cannot sign when it rejects our key or nonce (RFC 8489 §9.2.5); unsigned others are ignored.
        let code = message.type.messageClass == .errorResponse ? message.errorCode?.code : nil
        let unsignedAllowed = code == STUNErrorCode.unauthorized || code == STUNErrorCode.staleNonce
        if p.authenticated, let key, !unsignedAllowed, !message.verifyMessageIntegrity(key: key) { return }
        p.timer?.cancel()
        pending[message.transactionID] = nil
        if message.type.messageClass == .successResponse {
            p.promise.succeed(message)
            return
        }
        let error = message.errorCode ?? STUNErrorCode(code: 0, reason: "no error code")
        switch error.code {
        case STUNErrorCode.unauthorized where !p.authenticated || (usedCachedNonce && p.staleRetries == 0):
            usedCachedNonce = false
            p.staleRetries = 1
            // First contact: learn realm and nonce, derive the long-term key, send again.
            guard let realm = message.realm, let nonce = message.nonce else {
                return p.promise.fail(TURNError.malformedResponse("401"))
            }
            self.realm = realm
            self.nonce = nonce
            key = STUNCredentials.longTermKey(username: username, realm: realm, password: password)
            TURNNonceCache.shared.store(configuration, realm: realm, nonce: nonce)
            resend(p)
        case STUNErrorCode.unauthorized:
            p.promise.fail(TURNError.unauthorized(server: server.description, realm: realm))
        case STUNErrorCode.staleNonce where p.staleRetries < 2:
            if let nonce = message.nonce { self.nonce = nonce }
            if let realm = message.realm { self.realm = realm }
            if let realm = self.realm, let nonce = self.nonce { TURNNonceCache.shared.store(configuration, realm: realm, nonce: nonce) }
            p.staleRetries += 1
            resend(p)
        default:
            p.promise.fail(TURNError.rejected(code: error.code, reason: error.reason))
        }
    }

    func resend(_ old: Pending) {
        var p = old
        p.authenticated = true
        p.exchange = STUNClientTransaction(.turnRequest)
        let id = STUNTransactionID.random()
        p.bytes = encode(p, id: id)
        pending[id] = p
        transmit(id)
    }
}
