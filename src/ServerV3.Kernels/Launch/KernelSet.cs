using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ServerV3.Kernels.Activation;
using ServerV3.Kernels.Attention;
using ServerV3.Kernels.Cpu;
using ServerV3.Kernels.Embedding;
using ServerV3.Kernels.Gemm;
using ServerV3.Kernels.Moe;
using ServerV3.Kernels.Norm;
using ServerV3.Kernels.Rope;
using ServerV3.Kernels.Weights;

namespace ServerV3.Kernels.Launch;

/// <summary>
/// Every kernel, compiled once for one accelerator, with the launch shape for that accelerator: on the CPU
/// one thread per core and group size 1 (the CPU accelerator runs each simulated thread as an OS thread, and
/// big groups cost barriers); on a GPU one thread per work item of the portable body in groups of 128, or a group
/// per work item where its threads cooperate (a warp per dot product, 64 threads per attention head, 128 per
/// normalised row).
/// </summary>
public sealed class KernelSet : IDisposable
{
    private const int GpuGroupSize = 128;

    /// <summary>Chunks of a queued CPU launch per worker: enough for one worker to take over a late one's share.</summary>
    private const int ChunksPerWorker = 4;

    private readonly FormatKernels[] formats;
    private readonly Action<KernelConfig, Rows, Rows, ArrayView<float>, int, int, float> rmsNorm;
    private readonly Action<KernelConfig, LatentCacheWrite> writeLatent;
    private readonly Action<KernelConfig, Rows, ArrayView<int>, ArrayView<float>, Rows, CombineShape> combine;
    private readonly Action<KernelConfig, Rows, ArrayView<int>, Rows, int, int> gatherRows;
    private readonly Action<KernelConfig, Rows, ArrayView<int>, RopeTables, Rows, Rows, Rows, Rows, Rows, MlaShape, ContextSegment>? expandedAttention;
    private readonly Action<KernelConfig, Rows, ArrayView<int>, RopeTables, Rows, Rows, Rows, Rows, MlaShape, ContextSegment, WorkQueue>? expandedAttentionCpu;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> fp8DecodeTable;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> workCounter;
    private MemoryBuffer1D<float, Stride1D.Dense>? normScratch;
    private MemoryBuffer1D<float, Stride1D.Dense>? attentionParts;

    /// <summary>
    /// Most tokens of a CPU attention launch that goes a segment of positions at a time (work items of one token's
    /// segment and all heads) instead of a head group at a time: decode of a few sequences over long contexts, where
    /// head groups give few work items (two for bench-small's 16 heads, whatever the cores) and each group's pass reads
    /// every key. bench-small, attention per decode step, interleaved rounds: batch 1 at 4096 positions 11.1-12.9 ms by
    /// head groups, 9.4-11.5 in parts; batch 8 at 1024 positions 21.1 / 24.0 / 25.0 / 26.3 -> 21.2 / 20.5 / 23.4 / 17.2.
    /// Tokens must average two segments: batch 4 at 128 positions took 4.0 / 5.0 ms in parts, 3.6 / 2.9 by head groups.
    /// </summary>
    private const int PartsMaxTokens = 8;

    /// <summary>Largest scratch of a launch in parts (segment sums); a longer context attends a head group at a time.</summary>
    private const long PartsMaxBytes = 64L << 20;

    /// <param name="portableBodies">On the CPU accelerator, use the portable kernel bodies (the ones CUDA runs)
    /// instead of the CPU SIMD bodies; tests run both.</param>
    /// <param name="gpuLaunches">On the CPU accelerator, launch the portable bodies exactly as on a GPU (a thread per
    /// work item in groups of 128, cooperating groups): tests run the GPU's partitioning and barriers this way. The
    /// CPU device must allow groups of 128 threads.</param>
    public KernelSet(Accelerator accelerator, bool portableBodies = false, bool gpuLaunches = false)
    {
        Accelerator = accelerator;
        Workers = accelerator is CPUAccelerator cpu && !gpuLaunches ? cpu.NumMultiprocessors : 0;
        bool cpuBodies = Workers > 0 && !portableBodies;
        UsesCpuBodies = cpuBodies;
        fp8DecodeTable = HostCopy.Upload<float>(accelerator, Fp8E4M3.DecodeTable());
        // The work queue's counter, then its tallies, or three per token of an attention launch in parts.
        workCounter = accelerator.Allocate1D<int>(1 + Math.Max(3 * PartsMaxTokens, ChunksPerWorker * Math.Max(1, Workers)));
        formats = new FormatKernels[3];
        formats[(int)WeightFormat.F32] = new FormatKernels<F32Matrix>(accelerator, w => w.AsF32(), cpuBodies);
        formats[(int)WeightFormat.Bf16] = new FormatKernels<Bf16Matrix>(accelerator, w => w.AsBf16(), cpuBodies);
        formats[(int)WeightFormat.Fp8Block] = new FormatKernels<Fp8BlockMatrix>(accelerator, w => w.AsFp8(), cpuBodies);
        rmsNorm = cpuBodies
            ? accelerator.LoadStreamKernel<Rows, Rows, ArrayView<float>, int, int, float>(CpuRowKernels.RmsNorm)
            : accelerator.LoadStreamKernel<Rows, Rows, ArrayView<float>, int, int, float>(RmsNormKernels.RmsNorm);
        writeLatent = cpuBodies
            ? accelerator.LoadStreamKernel<LatentCacheWrite>(CpuRowKernels.WriteLatent)
            : accelerator.LoadStreamKernel<LatentCacheWrite>(MlaKernels.WriteLatent);
        combine = cpuBodies
            ? accelerator.LoadStreamKernel<Rows, ArrayView<int>, ArrayView<float>, Rows, CombineShape>(CpuRowKernels.Combine)
            : accelerator.LoadStreamKernel<Rows, ArrayView<int>, ArrayView<float>, Rows, CombineShape>(MoeKernels.Combine);
        gatherRows = cpuBodies
            ? accelerator.LoadStreamKernel<Rows, ArrayView<int>, Rows, int, int>(CpuRowKernels.GatherRows)
            : accelerator.LoadStreamKernel<Rows, ArrayView<int>, Rows, int, int>(EmbeddingKernels.GatherRows);
        if (cpuBodies)
        {
            expandedAttentionCpu = accelerator.LoadStreamKernel<Rows, ArrayView<int>, RopeTables, Rows, Rows, Rows, Rows, MlaShape, ContextSegment, WorkQueue>(
                CpuKernels.ExpandedAttention);
        }
        else
        {
            expandedAttention = accelerator.LoadStreamKernel<Rows, ArrayView<int>, RopeTables, Rows, Rows, Rows, Rows, Rows, MlaShape, ContextSegment>(
                MlaKernels.ExpandedAttention);
        }
    }

    public Accelerator Accelerator { get; }

    /// <summary>Whether the weight-streaming kernels run their CPU SIMD bodies.</summary>
    public bool UsesCpuBodies { get; }

    /// <summary>Threads per launch on the CPU accelerator (one per core); 0 on a GPU.</summary>
    public int Workers { get; }

    /// <summary>Number of kernel launches so far (the benchmark reports launches per step).</summary>
    public long Launches { get; private set; }

    public ArrayView<float> Fp8DecodeTable => fp8DecodeTable.View;

    public void Linear(WeightBuffer w, int matrix, Rows x, Rows y, LinearShape shape)
    {
        using var timer = Measure("linear", Matmul(shape.Tokens, shape.InFeatures, shape.OutFeatures),
            w.MatrixBytes + Activations(shape.Tokens, shape.InFeatures + shape.OutFeatures * (1 + shape.Accumulate)));
        Formats(w).Linear(GroupConfig(shape.Tokens * shape.OutFeatures, LinearKernels.DotGroup), w, matrix, x, y, shape, Queue());
    }

    /// <summary>
    /// y = W · rmsnorm(x) in one launch (RMSNorm fused into the projection); with <paramref name="second"/> also
    /// y2 = W2 · rmsnorm(x) in the same launch; with <paramref name="latent"/> the step's latent cache write as well.
    /// </summary>
    public void NormLinear(Rows x, ArrayView<float> normWeight, float eps, WeightBuffer w, Rows y, int tokens,
        WeightBuffer? second = null, Rows y2 = default, LatentCacheWrite? latent = null)
    {
        int inFeatures = w.Cols, outFeatures = w.Rows, secondOut = second?.Rows ?? 0, writes = latent?.Shape.Tokens ?? 0;
        if (second is not null && second.Cols != inFeatures)
            throw new ArgumentException($"the second projection takes {second.Cols} features, the first {inFeatures}", nameof(second));
        using var timer = Measure("normLinear", Matmul(tokens, inFeatures, outFeatures + secondOut),
            w.MatrixBytes + (second?.MatrixBytes ?? 0) + Activations(tokens, inFeatures + outFeatures + secondOut));
        var shape = new NormLinearShape(tokens, inFeatures, outFeatures, secondOut, eps);
        var scratch = NormScratch(tokens, inFeatures);
        var formats = second is null ? Formats(w) : SameFormat(w, second);
        // Without a cache write the kernel sees zero tokens to write; its other fields are never read.
        var write = latent ?? new LatentCacheWrite(y, normWeight, normWeight, default, default, default);
        formats.NormLinear(GroupConfig(tokens * (outFeatures + secondOut) + writes, LinearKernels.DotGroup), w, second ?? w, x, normWeight,
            scratch, y, second is null ? y : y2, write, shape, Queue());
    }

    /// <summary>
    /// act = silu(gate · n) * (up · n) with n = rmsnorm(x) in one launch (a dense MLP's norm, gate and up);
    /// <paramref name="scratch"/> has act's shape (the CPU body's up projection).
    /// </summary>
    public void GateUp(Rows x, ArrayView<float> normWeight, float eps, WeightBuffer gate, WeightBuffer up, Rows act, Rows scratch, int tokens)
    {
        int inFeatures = gate.Cols, outFeatures = gate.Rows;
        using var timer = Measure("gateUp", 2 * Matmul(tokens, inFeatures, outFeatures),
            gate.MatrixBytes + up.MatrixBytes + Activations(tokens, inFeatures + outFeatures));
        var normScratch = NormScratch(tokens, inFeatures);
        SameFormat(gate, up).GateUp(GroupConfig(tokens * outFeatures, LinearKernels.DotGroup), gate, up, x, normWeight, act, scratch, normScratch,
            new NormLinearShape(tokens, inFeatures, outFeatures, 0, eps), Queue());
    }

    /// <summary>
    /// The layer's MLA attention in one launch: absorbed queries (with the query's RoPE at each token's position) into
    /// <paramref name="qAbs"/>, causal attention over the paged latent cache into <paramref name="latent"/> (both
    /// [tokens * heads, ...] scratch), and the value expansion into o [tokens, heads * v]. On the CPU, a launch of a few
    /// tokens over long contexts goes a segment of positions at a time (<see cref="CpuKernels.AttentionInParts{TWeights}"/>).
    /// </summary>
    /// <param name="attendedPositions">Cache positions read, summed over the tokens (host-known, for the profile).</param>
    public void Attention(WeightBuffer kvB, Rows q, ArrayView<int> positions, RopeTables rope, ArrayView<float> cache, PagedLayout layout,
        Rows qAbs, Rows latent, Rows o, MlaShape shape, long attendedPositions)
    {
        long pairs = (long)shape.Tokens * shape.Heads;
        // Absorb and expand per (token, head), then scores over latent + rope and the weighted sum over the latent per attended position.
        double flops = Matmul(pairs, shape.Nope, shape.Latent) + Matmul(pairs, shape.Latent, shape.Value)
            + 2.0 * attendedPositions * shape.Heads * (2 * shape.Latent + shape.Rope);
        double bytes = kvB.MatrixBytes + Activations(attendedPositions, shape.Latent + shape.Rope) + Activations(pairs, shape.Nope + shape.Rope + shape.Value);
        using var timer = Measure("attention", flops, bytes);
        // The tokens' segments, at most: one per token plus one per SegmentPositions positions read.
        long segments = attendedPositions / CpuAttention.SegmentPositions + shape.Tokens;
        // In parts once the segments make at least as many work items as the head groups (a few tokens are one group item)
        // and the tokens average two segments (with fewer, absorbing each token's heads alone costs more than it saves).
        long partsFrom = Math.Max(CpuAttention.Groups(shape), 2L * shape.Tokens) * CpuAttention.SegmentPositions;
        if (UsesCpuBodies && shape.Tokens <= PartsMaxTokens && attendedPositions >= partsFrom
            && segments * shape.Heads * (shape.Latent + 2) * sizeof(float) <= PartsMaxBytes)
        {
            Formats(kvB).AttentionInParts(GroupConfig((int)segments, MlaKernels.AttendBlock), kvB, q, positions, rope, cache, layout,
                qAbs, latent, o, AttentionScratch(segments * shape.Heads, shape.Latent, shape.Tokens), shape, Queue());
        }
        else
        {
            Formats(kvB).Attention(GroupConfig(shape.Tokens * shape.Heads, MlaKernels.AttendBlock), kvB, q, positions, rope, cache, layout,
                qAbs, latent, o, shape, Queue());
        }
    }

    /// <summary>
    /// One sequence's consecutive tokens attended in the expanded form (see <see cref="MlaKernels.ExpandedAttention"/>)
    /// over the context positions of <paramref name="segment"/>: keys and values per head in <paramref name="kv"/> and
    /// the rotated k_pe in <paramref name="keyRope"/> (row 0 is position segment.Start); output into o [tokens, heads * v],
    /// unnormalised with the softmax state in <paramref name="state"/> ([tokens * heads, 2]) until the last segment.
    /// <paramref name="query"/> is the portable body's scratch ([tokens * heads, nope + rope]).
    /// </summary>
    /// <param name="attendedPositions">Positions of this segment read, summed over the tokens (host-known, for the profile).</param>
    public void ExpandedAttention(Rows q, ArrayView<int> positions, RopeTables rope, Rows kv, Rows keyRope, Rows query, Rows state, Rows o, MlaShape shape,
        ContextSegment segment, long attendedPositions)
    {
        int qHead = shape.Nope + shape.Rope;
        double flops = 2.0 * attendedPositions * shape.Heads * (qHead + shape.Value);
        using var timer = Measure("expandedAttention", flops,
            Activations(segment.Length, shape.Heads * (shape.Nope + shape.Value) + shape.Rope) + Activations((long)shape.Tokens * shape.Heads, qHead + shape.Value));
        var config = GroupConfig(shape.Tokens * shape.Heads, MlaKernels.AttendBlock);
        if (expandedAttentionCpu is not null) expandedAttentionCpu(config, q, positions, rope, kv, keyRope, state, o, shape, segment, Queue());
        else expandedAttention!(config, q, positions, rope, kv, keyRope, query, state, o, shape, segment);
    }

    /// <param name="work">Host-known size of this launch, for the profile.</param>
    /// <param name="shared">The layer's shared experts, run in the same launch (on the primary), or null.</param>
    public void ExpertGateUp(WeightBuffer gate, WeightBuffer up, Rows x, ExpertAssignments assignments, Rows act, Rows scratch, ExpertShape shape, ExpertWork work,
        SharedExperts? shared = null)
    {
        var (sharedTokens, sharedRows) = SharedShape.Of(shared);
        using var timer = Measure("expertGateUp", 2 * Matmul(work.Assignments, shape.Hidden, shape.Intermediate) + 2 * Matmul(sharedTokens, shape.Hidden, sharedRows),
            work.ActiveExperts * (gate.MatrixBytes + up.MatrixBytes) + (shared is { } s ? s.Gate.MatrixBytes + s.Up.MatrixBytes : 0)
            + Activations(work.Assignments, shape.Hidden + shape.Intermediate) + Activations(sharedTokens, shape.Hidden + sharedRows));
        if (shared is { } sharedGate) SameFormat(gate, sharedGate.Gate); // routed and shared experts share one kernel instantiation
        SameFormat(gate, up).ExpertGateUp(GroupConfig(work.Assignments * shape.Intermediate + sharedTokens * sharedRows, LinearKernels.DotGroup),
            gate, up, x, assignments, act, scratch, shape, shared, Queue());
    }

    /// <param name="combine">The layer's combine into hidden, when this is the only rank: the CPU workers own whole hidden
    /// columns of every output, so they combine theirs in the same launch; a GPU's groups own (assignment, row) pairs,
    /// so there the combine follows as its own launch.</param>
    public void ExpertDown(WeightBuffer down, Rows act, ExpertAssignments assignments, Rows output, ExpertShape shape, ExpertWork work,
        SharedExperts? shared = null, RoutedCombine? combine = null)
    {
        var fused = UsesCpuBodies ? combine : null;
        var (sharedTokens, sharedRows) = SharedShape.Of(shared);
        long combined = fused?.Shape.Tokens ?? 0;
        using (Measure("expertDown", Matmul(work.Assignments, shape.Intermediate, shape.Hidden) + Matmul(sharedTokens, sharedRows, shape.Hidden),
            work.ActiveExperts * down.MatrixBytes + (shared?.Down.MatrixBytes ?? 0) + Activations(work.Assignments, shape.Intermediate + shape.Hidden)
            + Activations(sharedTokens, sharedRows + 2 * shape.Hidden) + Activations(combined, 2 * shape.Hidden)))
        {
            if (shared is { } sharedDown) SameFormat(down, sharedDown.Down); // routed and shared experts share one kernel instantiation
            Formats(down).ExpertDown(GroupConfig((work.Assignments + sharedTokens) * shape.Hidden, LinearKernels.DotGroup), down, act, assignments, output,
                shape, shared, fused, Queue());
        }
        if (combine is { } c && fused is null) Combine(c.ExpertOutput, c.ChoiceSlots, c.Weights, c.Hidden, c.Shape);
    }

    public void Lookup(WeightBuffer table, ArrayView<int> ids, Rows output, int tokens, int dim)
    {
        using var timer = Measure("lookup");
        Formats(table).Lookup(Config(tokens), table, ids, output, tokens, dim);
    }

    public void RmsNorm(Rows x, Rows y, ArrayView<float> weight, int tokens, int dim, float eps)
    {
        using var timer = Measure("rmsNorm", 0, Activations(tokens, 2 * dim));
        rmsNorm(GroupConfig(tokens, RmsNormKernels.NormGroup), x, y, weight, tokens, dim, eps);
    }

    public void WriteLatent(LatentCacheWrite write)
    {
        using var timer = Measure("writeLatent");
        writeLatent(Config(write.Shape.Tokens), write);
    }

    /// <summary>
    /// The MoE gate in one launch: normed = rmsnorm(x) (for the experts), the router's logits over it, and each token's
    /// experts and weights (noaux_tc routing). <paramref name="scratch"/> holds [tokens, experts + groups] floats.
    /// </summary>
    public void Gate(Rows x, ArrayView<float> normWeight, float eps, Rows normed, WeightBuffer router, Rows logits, ArrayView<float> bias,
        Rows scratch, RouteOutput output, RouterShape shape)
    {
        using var timer = Measure("gate", Matmul(shape.Tokens, router.Cols, shape.Experts),
            router.MatrixBytes + Activations(shape.Tokens, 2 * router.Cols + shape.Experts));
        Formats(router).Gate(GroupConfig(shape.Tokens, LinearKernels.DotGroup), router, x, normWeight, normed, logits, bias, scratch, output,
            new GateShape(shape, router.Cols, eps));
    }

    public void Combine(Rows expertOutput, ArrayView<int> choiceSlots, ArrayView<float> weights, Rows hidden, CombineShape shape)
    {
        using var timer = Measure("combine");
        combine(Config(shape.Tokens * shape.Hidden), expertOutput, choiceSlots, weights, hidden, shape);
    }

    public void GatherRows(Rows input, ArrayView<int> rowIndices, Rows output, int rows, int dim)
    {
        using var timer = Measure("gatherRows");
        gatherRows(Config(rows), input, rowIndices, output, rows, dim);
    }

    /// <summary>When set, every launch is synchronised and timed into this profile.</summary>
    public KernelProfile? Profile { get; set; }

    public void Dispose()
    {
        fp8DecodeTable.Dispose();
        workCounter.Dispose();
        normScratch?.Dispose();
        attentionParts?.Dispose();
    }

    /// <summary>
    /// The CPU bodies' scratch for normalised rows, [workers * tokens, inFeatures], grown to the largest request (one
    /// float for the portable bodies, which never read it).
    /// </summary>
    private Rows NormScratch(int tokens, int inFeatures)
    {
        long floats = UsesCpuBodies ? (long)Workers * tokens * inFeatures : 1;
        return new Rows(AtLeast(ref normScratch, floats).View, inFeatures);
    }

    /// <summary>The scratch of an attention launch in parts over <paramref name="rows"/> (token, segment, head) rows, its counters zeroed.</summary>
    private AttentionParts AttentionScratch(long rows, int latent, int tokens)
    {
        var scratch = AtLeast(ref attentionParts, rows * (latent + 2)).View;
        var counters = workCounter.View.SubView(1, 3 * tokens);
        Zero(counters);
        return new AttentionParts(new Rows(scratch, latent), scratch.SubView(rows * latent, 2 * rows), counters, tokens);
    }

    /// <summary>The scratch buffer, replaced by a larger one when it holds fewer than <paramref name="floats"/>.</summary>
    private MemoryBuffer1D<float, Stride1D.Dense> AtLeast(ref MemoryBuffer1D<float, Stride1D.Dense>? buffer, long floats)
    {
        if (buffer is null || buffer.Length < floats)
        {
            buffer?.Dispose();
            buffer = AlignedBuffer<float>.Allocate(Accelerator, floats);
        }
        return buffer;
    }

    /// <summary>
    /// The next CPU launch's work queue, its counter and tallies zeroed (plain stores: CPU launches finish before they
    /// return); on a GPU an unused placeholder.
    /// </summary>
    private WorkQueue Queue()
    {
        if (!UsesCpuBodies) return default;
        int chunks = ChunksPerWorker * Workers;
        Zero(workCounter.View.SubView(0, 1 + chunks));
        return new WorkQueue(workCounter.View, chunks);
    }

    /// <summary>Zeroes a CPU launch's counters (a stackalloc'd span starts zeroed).</summary>
    private static void Zero(ArrayView<int> counters) => HostCopy.ToDevice<int>(counters, stackalloc int[(int)counters.Length]);

    private LaunchTimer Measure(string kernel, double flops = 0, double bytes = 0) =>
        new(this, kernel, Profile is null ? 0 : Stopwatch.GetTimestamp(), flops, bytes);

    private static double Matmul(long rows, int inner, int outputs) => 2.0 * rows * inner * outputs;

    private static double Activations(long rows, int floatsPerRow) => 4.0 * rows * floatsPerRow;

    private readonly struct LaunchTimer(KernelSet set, string kernel, long start, double flops, double bytes) : IDisposable
    {
        public void Dispose()
        {
            if (start == 0 || set.Profile is not { } profile) return;
            set.Accelerator.Synchronize();
            profile.Add(kernel, Stopwatch.GetTimestamp() - start, flops, bytes);
        }
    }

    private FormatKernels Formats(WeightBuffer w) => formats[(int)w.Format];

    private FormatKernels SameFormat(WeightBuffer a, WeightBuffer b) =>
        a.Format == b.Format ? Formats(a) : throw new ArgumentException($"paired weights differ in format: {a.Format} and {b.Format}");

    /// <summary>A launch whose groups cooperate on one work item each: on the CPU still one thread per core (group size 1).</summary>
    private KernelConfig GroupConfig(int items, int groupSize)
    {
        Launches++;
        items = Math.Max(items, 1);
        return Workers > 0 ? new KernelConfig(Math.Min(items, Workers), 1) : new KernelConfig(items, groupSize);
    }

    private KernelConfig Config(int items)
    {
        Launches++;
        items = Math.Max(items, 1);
        return Workers > 0
            ? new KernelConfig(Math.Min(items, Workers), 1)
            : new KernelConfig((items + GpuGroupSize - 1) / GpuGroupSize, GpuGroupSize);
    }
}
