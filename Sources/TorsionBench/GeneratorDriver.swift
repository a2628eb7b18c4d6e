// The one place the runner calls the load generator itself
// (LoadGenerator.swift); everything else goes through ``LoadDriver``.

/// The real driver: ``LoadGenerator``, in-process on the calling thread.
public struct GeneratorDriver: LoadDriver {
    /// Makes the driver.
    public init() {}

    /// ``LoadGenerator/run(_:progress:)``.
    public func run(_ spec: LoadSpec, progress: @escaping (LoadPhase, Double, Int) -> Void) throws -> LoadResult {
        try LoadGenerator.run(spec, progress: progress)
    }
}
