import Crypto
import Logging
import NIOCore
import Synchronization
import STUN
import ICE

/// One agent's connection: registration, then subscriptions and routing.
final class SignalServerConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = SignalFrame
    typealias OutboundOut = SignalFrame

    private enum Phase {
        case awaitingHello
        case awaitingProof(key: [UInt8], server: Curve25519.KeyAgreement.PrivateKey, nonce: [UInt8])
        case registered(key: [UInt8])
    }

    private let registry: SignalServerRegistry
    // Confined to the channel's event loop.
    private var phase = Phase.awaitingHello
    private var watching: [[UInt8]] = []
    private var registrationTimer: Scheduled<Void>?
    private var peerName = "?"
    private var closing = false

    init(registry: SignalServerRegistry) { self.registry = registry }

    func channelActive(context: ChannelHandlerContext) {
        peerName = context.remoteAddress?.description ?? "?"
        let channel = context.channel
        registrationTimer = context.eventLoop.scheduleTask(in: .seconds(10)) { [registry, peerName] in
            registry.logger.info("\(peerName): closed: did not register within 10 s")
            channel.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        registrationTimer?.cancel()
        if case .registered(let key) = phase {
            registry.unregister(key, channel: context.channel, watching: watching)
            registry.logger.debug("\(SignalServerRegistry.name(key)): disconnected")
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard !closing else { return }
        switch (phase, frame) {
        case (.awaitingHello, .hello(let key)):
            let server = Curve25519.KeyAgreement.PrivateKey()
            var rng = SystemRandomNumberGenerator()
            let nonce = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
            phase = .awaitingProof(key: key, server: server, nonce: nonce)
            context.writeAndFlush(wrapOutboundOut(.challenge(serverKey: Array(server.publicKey.rawRepresentation),
                                                               nonce: nonce)), promise: nil)
        case (.awaitingProof(let key, let server, let nonce), .proof(let mac)):
            guard SignalRegistration.verify(mac: mac, agentKey: key, serverPrivate: server, nonce: nonce) else {
                registry.count { $0.failedProofs += 1 }
                reject(context, "registration proof did not verify for key \(SignalServerRegistry.name(key))")
                return
            }
            registrationTimer?.cancel()
            phase = .registered(key: key)
            context.writeAndFlush(wrapOutboundOut(.welcome), promise: nil)
            registry.register(key, channel: context.channel)
            registry.logger.debug("\(SignalServerRegistry.name(key)): registered from \(peerName)")
        case (.registered(let key), .subscribe(let keys)):
            watching += keys
            for online in registry.subscribe(key, to: keys) {
                context.write(wrapOutboundOut(.presence(key: online, online: true)), promise: nil)
            }
            context.flush()
        case (.registered(let key), .send(let to, let body)):
            switch registry.route(body, from: key, to: to) {
            case .delivered: break
            case .notOnline: context.writeAndFlush(wrapOutboundOut(.presence(key: to, online: false)), promise: nil)
            case .refused(let why): context.writeAndFlush(wrapOutboundOut(.refused(to: to, reason: why)), promise: nil)
            }
        default:
            reject(context, SignalProtocolError.unexpected("\(frame.kindName) in this phase").description)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        reject(context, "\(error)")
    }

    private func reject(_ context: ChannelHandlerContext, _ why: String) {
        guard !closing else { return }
        closing = true
        registry.count { $0.rejectedFrames += 1 }
        let who: String
        if case .registered(let key) = phase { who = SignalServerRegistry.name(key) } else { who = peerName }
        registry.logger.warning("\(who): closed: \(why)")
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.error(why))).whenComplete { _ in channel.close(promise: nil) }
    }
}

extension SignalFrame {
    var kindName: String {
        switch self {
        case .hello: "hello"
        case .challenge: "challenge"
        case .proof: "proof"
        case .welcome: "welcome"
        case .subscribe: "subscribe"
        case .presence: "presence"
        case .send: "send"
        case .deliver: "deliver"
        case .error: "error"
        case .refused: "refused"
        }
    }
}
