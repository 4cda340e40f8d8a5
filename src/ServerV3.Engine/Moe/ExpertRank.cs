using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;
using ServerV3.Engine.Model;
using ServerV3.Engine.Runtime;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Moe;

namespace ServerV3.Engine.Moe;

/// <summary>
/// One EP rank's side of an MoE layer, with its per-step buffers on its own accelerator: receive the hidden rows it
/// needs, run all its local experts as one grouped GEMM launch per projection, send the results back into the
/// primary's expert output. Rank 0 is the primary itself: it reads the hidden rows in place and writes its results
/// straight into the output. Ranks after the first have a <see cref="Worker"/> thread.
/// </summary>
internal sealed class ExpertRank : IDisposable
{
    private readonly DeviceBuffers buffers;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> offsets;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> assignedRows;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> activation;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> upScratch;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? received;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? results;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? sharedActivation;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? sharedScratch;
    private readonly int hidden;
    private readonly int intermediate;
    private readonly int sharedIntermediate;

    /// <param name="slots">The most experts this rank holds (home plus redundant slots).</param>
    /// <param name="sharedIntermediate">Rows of the shared experts' MLP, which the primary (rank 0) runs in its launches; 0: none.</param>
    public ExpertRank(int index, KernelSet kernels, int slots, int maxTokens, int topK, int hidden, int intermediate, int sharedIntermediate)
    {
        Index = index;
        Kernels = kernels;
        this.hidden = hidden;
        this.intermediate = intermediate;
        int choices = maxTokens * topK;
        buffers = new DeviceBuffers(kernels.Accelerator);
        offsets = buffers.Allocate<int>(slots + 1);
        assignedRows = buffers.Allocate<int>(choices);
        activation = buffers.Allocate<float>((long)choices * intermediate);
        upScratch = buffers.Allocate<float>((long)choices * intermediate);
        if (index == 0 && sharedIntermediate > 0)
        {
            this.sharedIntermediate = sharedIntermediate;
            sharedActivation = buffers.Allocate<float>((long)maxTokens * sharedIntermediate);
            sharedScratch = buffers.Allocate<float>((long)maxTokens * sharedIntermediate);
        }
        if (index > 0)
        {
            received = buffers.Allocate<float>((long)maxTokens * hidden);
            results = buffers.Allocate<float>((long)choices * hidden);
            Worker = new RankWorker(kernels.Accelerator, $"serverv3-ep-rank-{index}");
        }
    }

    public int Index { get; }

    public KernelSet Kernels { get; }

    public RankWorker? Worker { get; }

    /// <summary>Time the last <see cref="Compute"/> spent receiving rows (ranks after the first).</summary>
    public long ReceiveTicks { get; private set; }

    /// <summary>Time the last <see cref="Compute"/> spent sending results back (ranks after the first).</summary>
    public long SendTicks { get; private set; }

    /// <summary>Runs this rank's part of a planned MoE layer.</summary>
    /// <param name="normed">The primary's normed hidden rows (rank 0 reads them in place).</param>
    /// <param name="sent">The primary's packed rows for ranks 1 and up (<see cref="DispatchPlan.SentTokens"/> order).</param>
    /// <param name="output">The primary's expert output; this rank's results go to rows from <see cref="DispatchPlan.OutputBase"/>.</param>
    /// <param name="timed">Synchronise between phases so that <see cref="ReceiveTicks"/> and <see cref="SendTicks"/> are exact.</param>
    /// <param name="shared">The layer's shared experts (the primary only): hidden rows [0, tokens) get their output added in the same launches.</param>
    /// <param name="combine">The layer's combine into hidden, when the primary is the only rank (it then has every output).</param>
    public void Compute(MlpWeights experts, DispatchPlan plan, Rows normed, ArrayView1D<float, Stride1D.Dense> sent, ArrayView1D<float, Stride1D.Dense> output, bool timed,
        (MlpWeights Weights, Rows Hidden, int Tokens)? shared = null, RoutedCombine? combine = null)
    {
        var accelerator = Kernels.Accelerator;
        int slots = experts.Gate.Count, count = plan.Assignments(Index);
        long start = Stopwatch.GetTimestamp();
        var x = normed;
        if (received is not null)
        {
            long length = (long)plan.SentRows(Index) * hidden;
            sent.SubView((long)plan.SendOffset(Index) * hidden, length).CopyTo(accelerator.DefaultStream, received.View.SubView(0, length));
            x = new Rows(received.View, hidden);
        }
        HostCopy.ToDevice(offsets.View, plan.Offsets(Index).AsSpan(0, slots + 1));
        HostCopy.ToDevice(assignedRows.View, plan.AssignedRows(Index).AsSpan(0, count));
        if (timed) accelerator.Synchronize();
        long receivedAt = Stopwatch.GetTimestamp();

        var assignments = new ExpertAssignments(offsets.View, assignedRows.View);
        var shape = new ExpertShape(slots, hidden, intermediate);
        var work = new ExpertWork(count, plan.ActiveSlots(Index));
        var act = new Rows(activation.View, intermediate);
        var y = results is null ? new Rows(output, hidden, plan.OutputBase(Index) * hidden) : new Rows(results.View, hidden);
        SharedExperts? sharedExperts = null;
        if (shared is { } s)
        {
            if (sharedActivation is null || s.Weights.Intermediate != sharedIntermediate)
                throw new InvalidOperationException($"rank {Index} has no buffers for shared experts of {s.Weights.Intermediate} rows");
            sharedExperts = new SharedExperts(s.Weights.Gate, s.Weights.Up, s.Weights.Down, new Rows(sharedActivation.View, sharedIntermediate),
                new Rows(sharedScratch!.View, sharedIntermediate), s.Hidden, s.Tokens);
        }
        Kernels.ExpertGateUp(experts.Gate, experts.Up, x, assignments, act, new Rows(upScratch.View, intermediate), shape, work, sharedExperts);
        Kernels.ExpertDown(experts.Down, act, assignments, y, shape, work, sharedExperts, combine);
        if (timed) accelerator.Synchronize();
        long computedAt = Stopwatch.GetTimestamp();

        if (results is not null)
        {
            long length = (long)count * hidden;
            results.View.SubView(0, length).CopyTo(accelerator.DefaultStream, output.SubView((long)plan.OutputBase(Index) * hidden, length));
            // The primary reads the results once this returns (the engine thread waits for the worker).
            accelerator.Synchronize();
        }
        ReceiveTicks = received is null ? 0 : receivedAt - start;
        SendTicks = results is null ? 0 : Stopwatch.GetTimestamp() - computedAt;
    }

    public void Dispose()
    {
        Worker?.Dispose();
        buffers.Dispose();
    }
}
