using System.Diagnostics;
using ServerV3.Engine.Execution;
using ServerV3.Engine.Runtime;
using ServerV3.Engine.Sampling;
using ServerV3.Kernels.Launch;

namespace ServerV3.Server.Benchmarking;

/// <summary>
/// Prefill throughput (each of B prompts of P random tokens as batched forwards) and decode throughput (B sequences
/// decoding greedily together, one batched forward per step, after one untimed step), with per-kernel time shares from profiled passes: the
/// first prompt's prefill, and the median of <see cref="ProfiledSteps"/> decode steps run after the timed ones (a
/// single step's table moved by tens of percent between runs on a shared host).
/// </summary>
public sealed class ThroughputBenchmark(LoadedModel model, int batch, int promptTokens, int genTokens, int seed = 0)
{
    /// <summary>Decode steps profiled after the timed ones.</summary>
    public int ProfiledSteps { get; } = Math.Min(8, genTokens);

    public BenchReport Run(string modelName, double bandwidthBytesPerSecond, double readBytesPerSecond, double peakFlopsPerSecond)
    {
        var kernels = model.Device.Kernels;
        var random = new Random(seed);
        var prompts = Enumerable.Range(0, batch)
            .Select(_ => Enumerable.Range(0, promptTokens).Select(_ => random.Next(model.Config.VocabSize)).ToArray()).ToArray();
        var sessions = prompts.Select(_ => new SequenceSession(model, promptTokens + 1 + genTokens + ProfiledSteps)).ToArray();
        try
        {
            // Warm-up: JIT and first-touch of every kernel and buffer, on a throwaway sequence.
            using (var warm = new SequenceSession(model, 8)) warm.Append([1, 2, 3, 4], withMtp: false);

            var prefillProfile = new KernelProfile();
            long start = Stopwatch.GetTimestamp();
            var lastTokens = new int[batch];
            for (int s = 0; s < batch; s++)
            {
                kernels.Profile = s == 0 ? prefillProfile : null;
                lastTokens[s] = Sampler.ArgMax(sessions[s].Prefill(prompts[s]));
            }
            kernels.Profile = null;
            double prefillSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;

            // One untimed step first: buffers sized by the batch (the host logits) grow once, outside the steady state.
            int position = promptTokens;
            DecodeStep(sessions, lastTokens, position++);
            var stepMilliseconds = new double[genTokens];
            long launchesBefore = kernels.Launches;
            long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            int collectionsBefore = GC.CollectionCount(0);
            var decode = Stopwatch.StartNew();
            for (int step = 0; step < genTokens; step++)
            {
                long stepStart = Stopwatch.GetTimestamp();
                DecodeStep(sessions, lastTokens, position++);
                stepMilliseconds[step] = Stopwatch.GetElapsedTime(stepStart).TotalMilliseconds;
            }
            double decodeSeconds = decode.Elapsed.TotalSeconds;
            long launches = kernels.Launches - launchesBefore;
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            int collections = GC.CollectionCount(0) - collectionsBefore;
            Array.Sort(stepMilliseconds);
            // Profiled steps synchronise every launch, so they run after the timed ones.
            var decodeProfiles = new List<KernelProfile>();
            for (int step = 0; step < ProfiledSteps; step++)
            {
                decodeProfiles.Add(kernels.Profile = new KernelProfile());
                DecodeStep(sessions, lastTokens, position++);
            }
            kernels.Profile = null;
            long bytesPerToken = model.Weights.ActiveBytesPerToken(model.Config);
            return new BenchReport
            {
                Model = modelName,
                Device = model.Device.Name,
                Batch = batch,
                PromptTokens = promptTokens,
                GenTokens = genTokens,
                PrefillTokensPerSecond = batch * promptTokens / prefillSeconds,
                DecodeTokensPerSecond = batch * genTokens / decodeSeconds,
                DecodeStepMilliseconds = decodeSeconds * 1000 / genTokens,
                DecodeStepMedianMilliseconds = Quantiles.OfSorted(stepMilliseconds, 0.5),
                DecodeStepP90Milliseconds = Quantiles.OfSorted(stepMilliseconds, 0.9),
                LaunchesPerDecodeStep = (double)launches / genTokens,
                AllocatedBytesPerDecodeStep = allocated / genTokens,
                Gen0CollectionsDuringDecode = collections,
                WeightBytesPerToken = bytesPerToken,
                TriadBandwidthGBPerSecond = bandwidthBytesPerSecond / 1e9,
                DecodeFloorTokensPerSecond = bandwidthBytesPerSecond / bytesPerToken,
                ReadBandwidthGBPerSecond = readBytesPerSecond / 1e9,
                DecodeReadFloorTokensPerSecond = readBytesPerSecond / bytesPerToken,
                PeakGFlopsPerSecond = peakFlopsPerSecond / 1e9,
                ProfiledDecodeSteps = ProfiledSteps,
                DecodeKernels = KernelRow.From(decodeProfiles, peakFlopsPerSecond, readBytesPerSecond),
                PrefillKernels = KernelRow.From([prefillProfile], peakFlopsPerSecond, readBytesPerSecond),
            };
        }
        finally
        {
            foreach (var session in sessions) session.Dispose();
        }
    }

    /// <summary>One greedy decode step of every sequence; <paramref name="lastTokens"/> become the tokens it chose.</summary>
    private void DecodeStep(SequenceSession[] sessions, int[] lastTokens, int position)
    {
        var logits = model.Model.Forward(DecodeBatch(sessions, lastTokens, position));
        for (int s = 0; s < sessions.Length; s++)
            lastTokens[s] = Sampler.ArgMax(logits.Span.Slice(s * model.Config.VocabSize, model.Config.VocabSize));
    }

    /// <summary>One decode step: each sequence's last token at the next position, all in one forward.</summary>
    private static StepBatch DecodeBatch(SequenceSession[] sessions, int[] lastTokens, int position) => new(
        lastTokens.ToArray(),
        Enumerable.Repeat(position, sessions.Length).ToArray(),
        Enumerable.Range(0, sessions.Length).ToArray(),
        sessions.Select(s => s.BlockTable).ToArray(),
        Enumerable.Range(0, sessions.Length).ToArray());
}
