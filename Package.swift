// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "icestat",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "icestat", targets: ["ICEStatusTUI"]),
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
    ],
    targets: [
        // ncursesw through a tiny C shim: macros and C globals re-exported as inline functions.
        .systemLibrary(name: "CNCursesW", providers: [.apt(["libncurses-dev"])]),
        .target(
            name: "StatusRecorder"
        ),
        .target(
            name: "ICEEngine",
            dependencies: [
                "StatusRecorder",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "ICEStatusTUI",
            dependencies: [
                "ICEEngine",
                "StatusRecorder",
                "CNCursesW",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // libFuzzer target for the STUN and ChannelData decoders (scripts/fuzz.sh); an ordinary build replays files.
        .executableTarget(name: "STUNFuzzer", dependencies: ["ICEEngine"]),
        // What the test targets share: certificates made with openssl for the TLS servers they start.
        .target(name: "ICETestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "ICEEngineTests", dependencies: ["ICEEngine", "ICETestSupport"], resources: [.copy("Resources")]),
        .testTarget(name: "StatusRecorderTests", dependencies: ["StatusRecorder"]),
        .testTarget(name: "ICEStatusTUITests", dependencies: ["ICEStatusTUI", "StatusRecorder", "ICEEngine", "ICETestSupport"]),
    ]
)
