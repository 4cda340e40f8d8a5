using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;
using ServerV3.Engine.Config;
using ServerV3.Engine.Model;
using ServerV3.Engine.Runtime;
using ServerV3.Kernels.Gemm;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Moe;

namespace ServerV3.Engine.Moe;

/// <summary>
/// The routed half of every DeepSeekMoE layer, across the expert-parallel ranks. Per layer: the router runs on the
/// primary and the choices come to the host, which plans the dispatch (<see cref="DispatchPlan"/>); one gather packs
/// the hidden rows the other ranks need; each rank copies its rows in, runs its local experts as one grouped GEMM
/// launch per projection and copies its results back — ranks 1 and up on their own host threads while the engine
/// thread runs rank 0 (the primary) and the shared experts; then the primary adds Σ weight · expert output to the
/// residual in choice order, so a token's result never depends on the placement or on the other tokens.
/// Also keeps the load statistics and moves the redundant experts between steps.
/// </summary>
public sealed class ExpertParallelMoe : IDisposable
{
    private readonly ModelConfig config;
    private readonly ExpertParallelOptions options;
    private readonly KernelSet kernels;
    private readonly ExpertRank[] ranks;
    private readonly Action[] rankJobs;
    /// <summary>The ranks after the first with work in the current layer (reused: a layer allocates nothing).</summary>
    private readonly ExpertRank[] busy;
    private readonly IReadOnlyList<RoutedExperts> layers;
    private readonly Dictionary<int, int> layerIndex;
    private readonly DispatchPlan plan;
    private readonly ExpertLoadStatistics statistics;
    private readonly DeviceBuffers buffers;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> routerLogits;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> routerScratch;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> chosenExperts;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> choiceSlots;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> sentTokens;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> sentRows;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> expertOutput;
    private readonly int[] hostChosen;
    private readonly int[] expertCounts;
    private readonly int[] rankCounts;
    /// <summary>The layer the ranks are computing: what <see cref="RunRank"/> hands each of them.</summary>
    private (RoutedExperts Experts, Rows Normed, bool Timed, (MlpWeights Weights, Rows Hidden, int Tokens)? Shared, RoutedCombine? Combine) current;

    /// <param name="moeLayers">Every MoE layer's model layer index and weights (the MTP layer's too).</param>
    internal ExpertParallelMoe(ComputeDevice device, ModelConfig config, ModelShapeOptions shape, ExpertParallelOptions options,
        IReadOnlyList<(int Layer, MoeWeights Weights)> moeLayers)
    {
        options.Validate(config.NRoutedExperts);
        if (device.ExpertRanks.Count != options.Degree)
            throw new ArgumentException($"{device.ExpertRanks.Count} accelerators for expert-parallel degree {options.Degree}", nameof(device));
        this.config = config;
        this.options = options;
        kernels = device.Kernels;
        layers = moeLayers.Select(l => l.Weights.Routed).ToArray();
        layerIndex = moeLayers.Select((l, i) => (l.Layer, i)).ToDictionary(p => p.Layer, p => p.i);
        int t = shape.MaxTokensPerStep, h = config.HiddenSize, k = config.NumExpertsPerTok, experts = config.NRoutedExperts;
        var slots = Enumerable.Range(0, options.Degree).Select(r => ExpertPlacement.Slots(experts, options.Degree, options.RedundantExperts, r)).ToArray();
        plan = new DispatchPlan(slots, experts, t, k);
        statistics = new ExpertLoadStatistics(moeLayers.Select(l => l.Layer).ToArray(), experts, options.Degree, options.LoadWindowSteps);
        buffers = new DeviceBuffers(device.Accelerator);
        routerLogits = buffers.Allocate<float>((long)t * experts);
        routerScratch = buffers.Allocate<float>((long)t * (experts + config.NGroup));
        chosenExperts = buffers.Allocate<int>((long)t * k);
        ChosenWeights = buffers.Allocate<float>((long)t * k);
        choiceSlots = buffers.Allocate<int>((long)t * k);
        expertOutput = buffers.Allocate<float>((long)t * k * h);
        sentTokens = buffers.Allocate<int>(plan.SentTokens.Length);
        sentRows = buffers.Allocate<float>((long)plan.SentTokens.Length * h);
        hostChosen = new int[t * k];
        expertCounts = new int[experts];
        rankCounts = new int[options.Degree];
        ranks = new ExpertRank[options.Degree];
        try
        {
            for (int r = 0; r < ranks.Length; r++)
                ranks[r] = new ExpertRank(r, device.ExpertRanks[r], slots[r], t, k, h, config.MoeIntermediateSize, config.NSharedExperts * config.MoeIntermediateSize);
        }
        catch
        {
            Dispose();
            throw;
        }
        rankJobs = ranks.Select(rank => (Action)(() => RunRank(rank))).ToArray();
        busy = new ExpertRank[ranks.Length];
    }

    public int Degree => ranks.Length;

    public int RedundantExperts => options.RedundantExperts;

    /// <summary>When set, the MoE layers add their phase times to it (synchronising between phases).</summary>
    public MoeTimings? Timings { get; set; }

    /// <summary>The gate weights of the last layer's choices ([tokens, top-k], for activation observers).</summary>
    internal MemoryBuffer1D<float, Stride1D.Dense> ChosenWeights { get; }

    /// <summary>Where the routed experts of a model layer are now.</summary>
    public ExpertPlacement Placement(int layer) => layers[layerIndex[layer]].Placement;

    /// <summary>The expert load over the recent steps; any thread may call this.</summary>
    public ExpertLoadSnapshot LoadSnapshot() => statistics.Snapshot(i => layers[i].Placement.ReplicatedExperts);

    /// <summary>
    /// Re-places every layer's redundant copies from its load over the window, copying the moved experts' weights
    /// from their home ranks. Call between steps on the thread that runs the forwards; results do not change (a copy
    /// computes exactly what its original does), only where the work goes. Returns the expert slots rewritten.
    /// </summary>
    public int Rebalance()
    {
        if (options.RedundantExperts == 0) return 0;
        int rewritten = 0;
        for (int i = 0; i < layers.Count; i++)
            rewritten += layers[i].MoveTo(ExpertPlacement.Create(config.NRoutedExperts, Degree, options.RedundantExperts, statistics.WindowLoad(i)));
        foreach (var rank in ranks) rank.Kernels.Accelerator.Synchronize();
        return rewritten;
    }

    /// <summary>A new engine step starts (called before each main-model forward); rebalances when due.</summary>
    internal void BeginStep()
    {
        long steps = statistics.Steps;
        if (options.RedundantExperts > 0 && options.RebalanceIntervalSteps > 0 && steps > 0 && steps % options.RebalanceIntervalSteps == 0)
            Rebalance();
        statistics.BeginStep();
    }

    /// <summary>
    /// normed = rmsnorm(hidden) with <paramref name="norm"/> (in the gate's launch, with the router and the routing), then hidden +=
    /// Σ_k weight · expert_k(normed) for <paramref name="tokens"/> rows, and the shared experts of normed, which the
    /// primary runs in its own grouped launches while the other ranks compute. Returns the chosen experts ([tokens,
    /// top-k]; valid until the next call).
    /// </summary>
    internal ReadOnlySpan<int> Run(int layer, MoeWeights moe, ArrayView<float> norm, Rows normed, Rows hidden, int tokens)
    {
        var c = config;
        int h = c.HiddenSize, experts = c.NRoutedExperts, k = c.NumExpertsPerTok, choices = tokens * k;
        bool timed = Timings is not null;
        long start = Stopwatch.GetTimestamp();
        var logits = new Rows(routerLogits.View, experts);
        kernels.Gate(hidden, norm, (float)c.RmsNormEps, normed, moe.Router, logits, moe.CorrectionBias.View,
            new Rows(routerScratch.View, experts + c.NGroup), new RouteOutput(chosenExperts.View, ChosenWeights.View),
            new RouterShape(tokens, experts, c.NGroup, c.TopkGroup, k, c.NormTopkProb ? 1 : 0, (float)c.RoutedScalingFactor));
        HostCopy.ToHost(chosenExperts.View, hostChosen.AsSpan(0, choices));
        long gated = Stopwatch.GetTimestamp();

        var routed = moe.Routed;
        plan.Build(routed.Placement, hostChosen.AsSpan(0, choices), tokens, k);
        HostCopy.ToDevice(choiceSlots.View, plan.ChoiceSlots.AsSpan(0, choices));
        int sent = plan.TotalSentRows;
        if (sent > 0)
        {
            HostCopy.ToDevice(sentTokens.View, plan.SentTokens.AsSpan(0, sent));
            kernels.GatherRows(normed, sentTokens.View, new Rows(sentRows.View, h), sent, h);
            // The other ranks copy the packed rows on their own streams.
            kernels.Accelerator.Synchronize();
        }
        long dispatched = Stopwatch.GetTimestamp();

        var combine = new RoutedCombine(new Rows(expertOutput.View, h), choiceSlots.View, ChosenWeights.View, hidden, new CombineShape(tokens, h, k));
        // The primary runs the shared experts in its grouped launches; a single rank has every expert output after its
        // down projection, so the combine joins that launch.
        current = (routed, normed, timed, moe.Shared is { } shared ? (shared, hidden, tokens) : null, ranks.Length == 1 ? combine : null);
        int busyCount = 0;
        foreach (var rank in ranks.AsSpan(1))
            if (plan.Assignments(rank.Index) > 0) busy[busyCount++] = rank;
        foreach (var rank in busy.AsSpan(0, busyCount)) rank.Worker!.Post(rankJobs[rank.Index]);
        Exception? failure = null;
        try
        {
            if (plan.Assignments(0) > 0 || current.Shared is not null) RunRank(ranks[0]);
            if (timed) kernels.Accelerator.Synchronize();
        }
        finally
        {
            foreach (var rank in busy.AsSpan(0, busyCount))
                if (rank.Worker!.Wait() is { } error)
                    failure ??= new InvalidOperationException($"expert-parallel rank {rank.Index} failed: {error.Message}", error);
        }
        if (failure is not null) throw failure;
        long computed = Stopwatch.GetTimestamp();

        if (current.Combine is null) kernels.Combine(combine.ExpertOutput, combine.ChoiceSlots, combine.Weights, combine.Hidden, combine.Shape);
        if (timed) kernels.Accelerator.Synchronize();
        long end = Stopwatch.GetTimestamp();

        plan.CountExperts(routed.Placement, expertCounts);
        for (int r = 0; r < ranks.Length; r++) rankCounts[r] = plan.Assignments(r);
        statistics.Record(layerIndex[layer], expertCounts, rankCounts);
        if (Timings is { } timings)
        {
            long receive = 0, send = 0;
            foreach (var rank in busy.AsSpan(0, busyCount))
            {
                receive = Math.Max(receive, rank.ReceiveTicks);
                send = Math.Max(send, rank.SendTicks);
            }
            timings.Add(gated - start, dispatched - gated + receive, computed - dispatched - receive - send, end - computed + send);
        }
        return hostChosen.AsSpan(0, choices);
    }

    public void Dispose()
    {
        foreach (var rank in ranks) rank?.Dispose();
        buffers.Dispose();
    }

    private void RunRank(ExpertRank rank) =>
        rank.Compute(current.Experts.Ranks[rank.Index], plan, current.Normed, sentRows.View, expertOutput.View, current.Timed,
            rank.Index == 0 ? current.Shared : null, rank.Index == 0 ? current.Combine : null);
}
