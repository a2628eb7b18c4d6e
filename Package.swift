// swift-tools-version: 6.1
// Torsion: Twisted's reactor model in Swift for Linux.
//
// The module graph enforces the layering of the Architecture article:
// TorsionCore has no syscalls and no dependency on any other Torsion module;
// TorsionProtocols and TorsionTesting build only on TorsionCore.
import PackageDescription

let package = Package(
    name: "Torsion",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TorsionCore", targets: ["TorsionCore"]),
        .library(name: "TorsionProtocols", targets: ["TorsionProtocols"]),
        .library(name: "TorsionTesting", targets: ["TorsionTesting"]),
        .executable(name: "deferred-examples", targets: ["DeferredExamples"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
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
            name: "TorsionPosix",
            dependencies: [
                "TorsionCore", "CTorsionPosix",
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "TorsionTesting",
            dependencies: ["TorsionCore"]
        ),
        .executableTarget(
            name: "DeferredExamples",
            dependencies: ["TorsionCore"],
            path: "Examples/DeferredExamples"
        ),
        .target(
            name: "SeedExamples",
            dependencies: ["TorsionCore", "TorsionProtocols"],
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
            dependencies: ["SeedExamples", "TorsionProtocols", "TorsionTesting", "TorsionCore"]
        ),
        .target(
            name: "ReactorTestSupport",
            dependencies: ["TorsionPosix", "TorsionCore"],
            path: "Tests/ReactorTestSupport"
        ),
        .testTarget(
            name: "TorsionPosixTests",
            dependencies: ["TorsionPosix", "TorsionCore", "ReactorTestSupport"]
        ),
        .testTarget(
            name: "ReactorConformanceTests",
            dependencies: ["TorsionPosix", "TorsionCore", "ReactorTestSupport"]
        ),
        .testTarget(
            name: "TorsionTestingTests",
            dependencies: ["TorsionTesting", "TorsionCore"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
