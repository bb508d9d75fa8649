// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "icestat",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "icestat", targets: ["ICEStatMain"]),
        .library(name: "ICEEngine", targets: ["ICEEngine"]),
        .library(name: "StatusRecorder", targets: ["StatusRecorder"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // ncursesw through a tiny C shim: macros and C globals re-exported as inline functions.
        .systemLibrary(name: "CNCursesW", providers: [.apt(["libncurses-dev"])]),
        .target(
            name: "StatusRecorder"
        ),
        // The engine, in layers; each depends only on those above it, and only Mesh feeds the recorder.
        // STUN: message codec, addresses and the client-transaction schedule; no NIO.
        .target(
            name: "STUN",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/ICEEngine/STUN"
        ),
        // ICE: candidates and gathering, the ICE agent, the TURN client, UDP transports, NAT diagnostics.
        .target(
            name: "ICE",
            dependencies: [
                "STUN",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Sources/ICEEngine/ICE"
        ),
        // SignalWire: the signal protocol's frames and their TCP framing; NIOCore only, so that its fuzzer is small.
        .target(
            name: "SignalWire",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            path: "Sources/ICEEngine/SignalWire"
        ),
        // Signal: the signal protocol and its end-to-end sealing, the client and the relay server.
        .target(
            name: "Signal",
            dependencies: [
                "STUN", "ICE", "SignalWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/ICEEngine/Signal"
        ),
        // SignalCluster: several signal nodes sharing presence and routing through PostgreSQL (LISTEN/NOTIFY).
        .target(
            name: "SignalCluster",
            dependencies: [
                "Signal",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/ICEEngine/SignalCluster"
        ),
        // Mesh: per-peer connections (the NetBird design), the mesh agent, lazy rules and the data plane.
        .target(
            name: "Mesh",
            dependencies: [
                "STUN", "ICE", "Signal", "StatusRecorder",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/ICEEngine/Mesh"
        ),
        // ICEEngine: the one import the front ends use; it re-exports the layers.
        .target(
            name: "ICEEngine",
            dependencies: ["STUN", "ICE", "Signal", "SignalCluster", "Mesh"],
            path: "Sources/ICEEngine/Engine"
        ),
        // posix_spawn's closefrom action, which glibc declares only under _GNU_SOURCE.
        .systemLibrary(name: "CSpawn"),
        // Starting child processes with default signal handling (coturn for the demo; benches; tests).
        .target(name: "ProcessSpawning", dependencies: ["CSpawn"], path: "Sources/ICEStatusTUI/ProcessSpawning"),
        // The front ends (dashboard, reports, agent, signal node, demo, tools) and their subcommands.
        .target(
            name: "ICEStatusTUI",
            dependencies: [
                "ICEEngine",
                "ProcessSpawning",
                "StatusRecorder",
                "CNCursesW",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            exclude: ["Bench", "Main", "ProcessSpawning"]
        ),
        // `icestat bench`: the benchmarks, beside the product rather than in it.
        .target(
            name: "ICEStatBench",
            dependencies: [
                "ICEStatusTUI", "ProcessSpawning", "ICEEngine", "STUN", "StatusRecorder",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/ICEStatusTUI/Bench"
        ),
        // The `icestat` executable: the root command over the front ends' subcommands and the benches'.
        .executableTarget(
            name: "ICEStatMain",
            dependencies: ["ICEStatusTUI", "ICEStatBench", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/ICEStatusTUI/Main",
            // Release links with the toolchain's lld: relative relocations packed (RELR, glibc 2.36+) and no
            // symbol table exported, where the static runtime's link flags export every symbol. Both are read
            // or searched at each start: 4.4 MB of the agent's resident memory and part of every start-up.
            linkerSettings: [.unsafeFlags(ReleaseLinking.flags, .when(platforms: [.linux], configuration: .release))]
        ),
        // libFuzzer targets (scripts/fuzz.sh) on the shared driver; an ordinary build replays files. Each needs
        // only its decoder: the STUN one compiles swift-crypto and STUN, the signal one NIOCore and SignalWire,
        // the status one StatusRecorder.
        .target(name: "FuzzDriver", path: "Sources/Fuzz/Driver"),
        .executableTarget(name: "STUNFuzzer", dependencies: ["STUN", "FuzzDriver"], path: "Sources/Fuzz/STUNFuzzer"),
        .executableTarget(name: "SignalFuzzer", dependencies: ["SignalWire", "FuzzDriver"], path: "Sources/Fuzz/SignalFuzzer"),
        .executableTarget(name: "StatusFuzzer", dependencies: ["StatusRecorder", "FuzzDriver"], path: "Sources/Fuzz/StatusFuzzer"),
        // What the test targets share: one polling helper, one UDP test socket, one way to run processes,
        // certificates made with openssl for the TLS servers they start, and an in-memory network that runs
        // ICE agents in virtual time.
        .target(name: "ICETestSupport", dependencies: [
            "ICE", "ProcessSpawning", "Signal", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
        ], path: "Tests/TestSupport"),
        .testTarget(name: "ICEEngineTests", dependencies: [
            "ICEEngine", "SignalCluster", "ICETestSupport", .product(name: "NIOEmbedded", package: "swift-nio"),
        ], resources: [.copy("Resources")]),
        .testTarget(name: "StatusRecorderTests", dependencies: ["StatusRecorder", "ICETestSupport"]),
        .testTarget(name: "ICEStatusTUITests", dependencies: [
            "ICEStatusTUI", "ICEStatBench", "StatusRecorder", "ICEEngine", "ICETestSupport",
        ]),
    ]
)

/// The release link flags of the `icestat` executable (`icestat bench startup` builds its baseline with the same).
enum ReleaseLinking {
    static let flags = ["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic"]
}
