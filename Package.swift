// swift-tools-version: 6.1
// Torsion: Twisted's reactor model in Swift for Linux.
//
// The module graph enforces the layering of the Architecture article:
// TorsionCore has no syscalls and no dependency on any other Torsion module;
// TorsionProtocols and TorsionTesting build only on TorsionCore.
import PackageDescription

/// The runnable seed examples (`swift run NAME`), one per example of the
/// seed write-ups; each is Examples/NAME/main.swift over SeedExamples.
let seedPrograms = [
    "echo-server", "echo-client", "qotd-server", "limited-echo-server", "answer-server", "logging-server",
    "finger-server", "spreader-server", "spreader-client", "quote-server", "quote-client", "chat-server",
]

let package = Package(
    name: "Torsion",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TorsionCore", targets: ["TorsionCore"]),
        .library(name: "TorsionProtocols", targets: ["TorsionProtocols"]),
        .library(name: "TorsionTesting", targets: ["TorsionTesting"]),
        .library(name: "Torsion", targets: ["Torsion"]),
        .executable(name: "torsion", targets: ["torsion"]),
        .executable(name: "deferred-examples", targets: ["DeferredExamples"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "TorsionCore",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "TorsionProtocols",
            dependencies: [
                "TorsionCore",
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(name: "CTorsionPosix"),
        .target(
            name: "TorsionEngine",
            dependencies: ["TorsionCore", "CTorsionPosix"]
        ),
        // libevent's core loop only (libevent_core: no bufferevent users,
        // no evdns/evhttp), used as a poller by TorsionLibevent.
        .systemLibrary(
            name: "CLibevent",
            pkgConfig: "libevent_core",
            providers: [.apt(["libevent-dev"])]
        ),
        .target(
            name: "TorsionLibevent",
            dependencies: ["TorsionEngine", "CLibevent"]
        ),
        .systemLibrary(name: "CLibURing", pkgConfig: "liburing", providers: [.apt(["liburing-dev"])]),
        .target(
            name: "TorsionURing",
            dependencies: ["TorsionCore", "TorsionEngine", "CLibURing", "CTorsionPosix"]
        ),
        .target(
            name: "TorsionPosix",
            dependencies: [
                "TorsionCore", "TorsionEngine", "TorsionLibevent", "TorsionURing", "CTorsionPosix",
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "TorsionTesting",
            dependencies: ["TorsionCore"]
        ),
        .target(
            name: "Torsion",
            dependencies: ["TorsionCore", "TorsionProtocols", "TorsionPosix"]
        ),
        .target(
            name: "TorsionTool",
            dependencies: [
                "Torsion", "SeedExamples", "TorsionBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The loop comparison: load generator, runner and reports of
        // `torsion bench`. Its load generator uses plain epoll of its own,
        // never the backend under test.
        .target(
            name: "TorsionBench",
            dependencies: ["TorsionPosix", "CTorsionPosix"]
        ),
        .executableTarget(
            name: "torsion",
            dependencies: ["TorsionTool"]
        ),
        .executableTarget(
            name: "DeferredExamples",
            dependencies: ["TorsionCore"],
            path: "Examples/DeferredExamples"
        ),
        .target(
            name: "SeedExamples",
            dependencies: ["TorsionCore", "TorsionProtocols", "TorsionPosix"],
            path: "Examples/SeedExamples"
        ),
        .testTarget(
            name: "TorsionCoreTests",
            dependencies: [
                "TorsionCore", "TorsionTesting",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "TorsionProtocolsTests",
            dependencies: ["TorsionProtocols", "TorsionTesting", "TorsionCore"]
        ),
        .testTarget(
            name: "SeedExamplesTests",
            dependencies: ["SeedExamples", "TorsionProtocols", "TorsionTesting", "TorsionCore", "TorsionPosix", "ReactorTestSupport"]
        ),
        .target(
            name: "ReactorTestSupport",
            dependencies: ["TorsionPosix", "TorsionCore"],
            path: "Tests/ReactorTestSupport"
        ),
        .testTarget(
            name: "TorsionPosixTests",
            dependencies: ["TorsionPosix", "TorsionCore", "TorsionURing", "ReactorTestSupport"]
        ),
        .testTarget(
            name: "TorsionURingTests",
            dependencies: ["TorsionURing", "TorsionEngine", "TorsionCore", "CLibURing"]
        ),
        .testTarget(
            name: "TorsionLibeventTests",
            dependencies: ["TorsionLibevent", "TorsionEngine", "ReactorTestSupport"]
        ),
        .testTarget(
            name: "ReactorConformanceTests",
            dependencies: ["TorsionPosix", "TorsionCore", "ReactorTestSupport"]
        ),
        .testTarget(
            name: "TorsionToolTests",
            dependencies: [
                "TorsionTool", "Torsion", "TorsionBench", "TorsionPosix", "SeedExamples", "TorsionTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "TorsionBenchTests",
            dependencies: ["TorsionBench"]
        ),
        .testTarget(
            name: "TorsionTestingTests",
            dependencies: ["TorsionTesting", "TorsionCore"]
        ),
    ]
        + seedPrograms.map { name in
            .executableTarget(name: name, dependencies: ["SeedExamples"], path: "Examples/\(name)")
        },
    swiftLanguageModes: [.v6]
)
