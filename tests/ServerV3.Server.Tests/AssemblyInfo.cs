// Test servers run one at a time: OpenTelemetry aggregates every meter named "ServerV3" in the process, so
// concurrent servers would see each other's metrics, and timing-based assertions want the cores to themselves.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
