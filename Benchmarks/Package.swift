// swift-tools-version: 6.1
// Torsion's micro-benchmarks (ordo-one/benchmark): a package of its own so
// that the root package's build and CI never compile the benchmark harness.
// The plugin finds the benchmark target under Benchmarks/<Target>/ and the
// checked-in thresholds under Thresholds/. Run it from this directory:
//   swift package --scratch-path .build-microbench benchmark
// The root package is named explicitly, as its path identity is the name of
// the checkout's directory.
import PackageDescription

let package = Package(
    name: "TorsionBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Torsion", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "TorsionBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TorsionTesting", package: "Torsion"),
                .product(name: "Torsion", package: "Torsion"),
            ],
            path: "Benchmarks/TorsionBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ],
    swiftLanguageModes: [.v6]
)
