using ILGPU;
using ILGPU.Runtime;
using ServerV3.Kernels.Activation;
using ServerV3.Kernels.Attention;
using ServerV3.Kernels.Cpu;
using ServerV3.Kernels.Embedding;
using ServerV3.Kernels.Gemm;
using ServerV3.Kernels.Moe;
using ServerV3.Kernels.Rope;
using ServerV3.Kernels.Weights;

namespace ServerV3.Kernels.Launch;

/// <summary>The kernels that read weights, compiled for one storage format.</summary>
/// <remarks>The CPU bodies take their chunks of the work from a <see cref="WorkQueue"/>; the portable bodies ignore it.</remarks>
internal abstract class FormatKernels
{
    public abstract void Linear(KernelConfig config, WeightBuffer w, int matrix, Rows x, Rows y, LinearShape shape, WorkQueue queue);

    /// <param name="scratch">The CPU body's normalised rows, [workers * tokens, in].</param>
    public abstract void NormLinear(
        KernelConfig config, WeightBuffer w, WeightBuffer second, Rows x, ArrayView<float> normWeight, Rows scratch, Rows y, Rows y2,
        LatentCacheWrite latent, NormLinearShape shape, WorkQueue queue);

    public abstract void Gate(
        KernelConfig config, WeightBuffer router, Rows x, ArrayView<float> normWeight, Rows normed, Rows logits, ArrayView<float> bias, Rows scratch,
        RouteOutput output, GateShape shape);

    /// <param name="scratch">Same shape as act; the CPU body computes the up projection into it.</param>
    /// <param name="normScratch">The CPU body's normalised rows, [workers * tokens, in].</param>
    public abstract void GateUp(
        KernelConfig config, WeightBuffer gate, WeightBuffer up, Rows x, ArrayView<float> normWeight, Rows act, Rows scratch, Rows normScratch, NormLinearShape shape,
        WorkQueue queue);

    public abstract void Attention(
        KernelConfig config, WeightBuffer kvB, Rows q, ArrayView<int> positions, RopeTables rope, ArrayView<float> cache, PagedLayout layout,
        Rows qAbs, Rows latent, Rows o, MlaShape shape, WorkQueue queue);

    /// <summary>The CPU body's attention of a few tokens in segments (see <see cref="CpuKernels.AttentionInParts{TWeights}"/>).</summary>
    public abstract void AttentionInParts(
        KernelConfig config, WeightBuffer kvB, Rows q, ArrayView<int> positions, RopeTables rope, ArrayView<float> cache, PagedLayout layout,
        Rows qAbs, Rows latent, Rows o, AttentionParts parts, MlaShape shape, WorkQueue queue);

    /// <param name="shared">The shared experts run in the same launch, or null.</param>
    public abstract void ExpertGateUp(
        KernelConfig config, WeightBuffer gate, WeightBuffer up, Rows x, ExpertAssignments assignments, Rows act, Rows scratch, ExpertShape shape, SharedExperts? shared,
        WorkQueue queue);

    /// <param name="combine">The combine, run in the same launch by the CPU body only (the portable body's groups own
    /// (assignment, row) pairs, not columns, so it must be null there).</param>
    public abstract void ExpertDown(
        KernelConfig config, WeightBuffer down, Rows act, ExpertAssignments assignments, Rows output, ExpertShape shape, SharedExperts? shared, RoutedCombine? combine,
        WorkQueue queue);

    public abstract void Lookup(KernelConfig config, WeightBuffer table, ArrayView<int> ids, Rows output, int tokens, int dim);
}

/// <param name="cpuBodies">Load the CPU SIMD bodies (Cpu/) instead of the portable ones for the weight-streaming kernels.</param>
internal sealed class FormatKernels<TWeights>(Accelerator accelerator, Func<WeightBuffer, TWeights> view, bool cpuBodies) : FormatKernels
    where TWeights : struct, IWeightMatrix
{
    private readonly Action<KernelConfig, TWeights, int, Rows, Rows, LinearShape>? linear =
        cpuBodies ? null : accelerator.LoadStreamKernel<TWeights, int, Rows, Rows, LinearShape>(LinearKernels.Linear);
    private readonly Action<KernelConfig, TWeights, int, Rows, Rows, LinearShape, WorkQueue>? linearCpu =
        cpuBodies ? accelerator.LoadStreamKernel<TWeights, int, Rows, Rows, LinearShape, WorkQueue>(CpuKernels.Linear) : null;
    private readonly Action<KernelConfig, TWeights, TWeights, Rows, ArrayView<float>, Rows, Rows, LatentCacheWrite, NormLinearShape>? normLinear =
        cpuBodies ? null : accelerator.LoadStreamKernel<TWeights, TWeights, Rows, ArrayView<float>, Rows, Rows, LatentCacheWrite, NormLinearShape>(NormLinearKernels.NormLinear);
    private readonly Action<KernelConfig, TWeights, TWeights, Rows, ArrayView<float>, Rows, Rows, Rows, LatentCacheWrite, NormLinearShape, WorkQueue>? normLinearCpu =
        cpuBodies ? accelerator.LoadStreamKernel<TWeights, TWeights, Rows, ArrayView<float>, Rows, Rows, Rows, LatentCacheWrite, NormLinearShape, WorkQueue>(CpuKernels.NormLinear) : null;
    private readonly Action<KernelConfig, TWeights, Rows, ArrayView<float>, Rows, Rows, ArrayView<float>, Rows, RouteOutput, GateShape> gate = cpuBodies
        ? accelerator.LoadStreamKernel<TWeights, Rows, ArrayView<float>, Rows, Rows, ArrayView<float>, Rows, RouteOutput, GateShape>(CpuKernels.Gate)
        : accelerator.LoadStreamKernel<TWeights, Rows, ArrayView<float>, Rows, Rows, ArrayView<float>, Rows, RouteOutput, GateShape>(MoeKernels.Gate);
    private readonly Action<KernelConfig, TWeights, TWeights, Rows, ArrayView<float>, Rows, NormLinearShape>? gateUp =
        cpuBodies ? null : accelerator.LoadStreamKernel<TWeights, TWeights, Rows, ArrayView<float>, Rows, NormLinearShape>(SwiGluKernels.GateUp);
    private readonly Action<KernelConfig, TWeights, TWeights, Rows, ArrayView<float>, Rows, Rows, Rows, NormLinearShape, WorkQueue>? gateUpCpu =
        cpuBodies ? accelerator.LoadStreamKernel<TWeights, TWeights, Rows, ArrayView<float>, Rows, Rows, Rows, NormLinearShape, WorkQueue>(CpuKernels.GateUp) : null;
    private readonly Action<KernelConfig, TWeights, Rows, ArrayView<int>, RopeTables, ArrayView<float>, PagedLayout, Rows, Rows, Rows, MlaShape>? attention =
        cpuBodies ? null : accelerator.LoadStreamKernel<TWeights, Rows, ArrayView<int>, RopeTables, ArrayView<float>, PagedLayout, Rows, Rows, Rows, MlaShape>(MlaKernels.Attention);
    private readonly Action<KernelConfig, TWeights, Rows, ArrayView<int>, RopeTables, ArrayView<float>, PagedLayout, Rows, Rows, Rows, MlaShape, WorkQueue>? attentionCpu =
        cpuBodies
            ? accelerator.LoadStreamKernel<TWeights, Rows, ArrayView<int>, RopeTables, ArrayView<float>, PagedLayout, Rows, Rows, Rows, MlaShape, WorkQueue>(CpuKernels.Attention)
            : null;
    private readonly Action<KernelConfig, TWeights, Rows, ArrayView<int>, RopeTables, ArrayView<float>, PagedLayout, Rows, Rows, Rows, AttentionParts, MlaShape, WorkQueue>? attentionInPartsCpu =
        cpuBodies
            ? accelerator.LoadStreamKernel<TWeights, Rows, ArrayView<int>, RopeTables, ArrayView<float>, PagedLayout, Rows, Rows, Rows, AttentionParts, MlaShape, WorkQueue>(
                CpuKernels.AttentionInParts)
            : null;
    private readonly Action<KernelConfig, TWeights, TWeights, TWeights, TWeights, Rows, ExpertAssignments, Rows, Rows, ExpertShape, SharedShape>? expertGateUp =
        cpuBodies ? null : accelerator.LoadStreamKernel<TWeights, TWeights, TWeights, TWeights, Rows, ExpertAssignments, Rows, Rows, ExpertShape, SharedShape>(MoeKernels.ExpertGateUp);
    private readonly Action<KernelConfig, TWeights, TWeights, TWeights, TWeights, Rows, ExpertAssignments, Rows, Rows, Rows, Rows, ExpertShape, SharedShape, WorkQueue>? expertGateUpCpu =
        cpuBodies
            ? accelerator.LoadStreamKernel<TWeights, TWeights, TWeights, TWeights, Rows, ExpertAssignments, Rows, Rows, Rows, Rows, ExpertShape, SharedShape, WorkQueue>(CpuKernels.ExpertGateUp)
            : null;
    private readonly Action<KernelConfig, TWeights, TWeights, Rows, Rows, ExpertAssignments, Rows, Rows, ExpertShape, SharedShape>? expertDown =
        cpuBodies ? null : accelerator.LoadStreamKernel<TWeights, TWeights, Rows, Rows, ExpertAssignments, Rows, Rows, ExpertShape, SharedShape>(MoeKernels.ExpertDown);
    private readonly Action<KernelConfig, TWeights, TWeights, Rows, Rows, ExpertAssignments, Rows, Rows, RoutedCombine, ExpertShape, SharedShape, WorkQueue>? expertDownCpu =
        cpuBodies
            ? accelerator.LoadStreamKernel<TWeights, TWeights, Rows, Rows, ExpertAssignments, Rows, Rows, RoutedCombine, ExpertShape, SharedShape, WorkQueue>(CpuKernels.ExpertDown)
            : null;
    private readonly Action<KernelConfig, TWeights, ArrayView<int>, Rows, int, int> lookup = cpuBodies
        ? accelerator.LoadStreamKernel<TWeights, ArrayView<int>, Rows, int, int>(CpuKernels.Lookup)
        : accelerator.LoadStreamKernel<TWeights, ArrayView<int>, Rows, int, int>(EmbeddingKernels.Lookup);

    public override void Linear(KernelConfig config, WeightBuffer w, int matrix, Rows x, Rows y, LinearShape shape, WorkQueue queue)
    {
        if (linearCpu is not null) linearCpu(config, view(w), matrix, x, y, shape, queue);
        else linear!(config, view(w), matrix, x, y, shape);
    }

    public override void NormLinear(
        KernelConfig config, WeightBuffer w, WeightBuffer second, Rows x, ArrayView<float> normWeight, Rows scratch, Rows y, Rows y2,
        LatentCacheWrite latent, NormLinearShape shape, WorkQueue queue)
    {
        if (normLinearCpu is not null) normLinearCpu(config, view(w), view(second), x, normWeight, scratch, y, y2, latent, shape, queue);
        else normLinear!(config, view(w), view(second), x, normWeight, y, y2, latent, shape);
    }

    public override void Gate(
        KernelConfig config, WeightBuffer router, Rows x, ArrayView<float> normWeight, Rows normed, Rows logits, ArrayView<float> bias, Rows scratch,
        RouteOutput output, GateShape shape) =>
        gate(config, view(router), x, normWeight, normed, logits, bias, scratch, output, shape);

    public override void GateUp(
        KernelConfig config, WeightBuffer gate, WeightBuffer up, Rows x, ArrayView<float> normWeight, Rows act, Rows scratch, Rows normScratch, NormLinearShape shape,
        WorkQueue queue)
    {
        if (gateUpCpu is not null) gateUpCpu(config, view(gate), view(up), x, normWeight, act, scratch, normScratch, shape, queue);
        else gateUp!(config, view(gate), view(up), x, normWeight, act, shape);
    }

    public override void Attention(
        KernelConfig config, WeightBuffer kvB, Rows q, ArrayView<int> positions, RopeTables rope, ArrayView<float> cache, PagedLayout layout,
        Rows qAbs, Rows latent, Rows o, MlaShape shape, WorkQueue queue)
    {
        if (attentionCpu is not null) attentionCpu(config, view(kvB), q, positions, rope, cache, layout, qAbs, latent, o, shape, queue);
        else attention!(config, view(kvB), q, positions, rope, cache, layout, qAbs, latent, o, shape);
    }

    public override void AttentionInParts(
        KernelConfig config, WeightBuffer kvB, Rows q, ArrayView<int> positions, RopeTables rope, ArrayView<float> cache, PagedLayout layout,
        Rows qAbs, Rows latent, Rows o, AttentionParts parts, MlaShape shape, WorkQueue queue) =>
        (attentionInPartsCpu ?? throw new InvalidOperationException("attention in parts is a CPU body"))(
            config, view(kvB), q, positions, rope, cache, layout, qAbs, latent, o, parts, shape, queue);

    public override void ExpertGateUp(
        KernelConfig config, WeightBuffer gate, WeightBuffer up, Rows x, ExpertAssignments assignments, Rows act, Rows scratch, ExpertShape shape, SharedExperts? shared,
        WorkQueue queue)
    {
        // Without shared experts their arguments are never read: the routed ones stand in.
        var sharedShape = SharedShape.Of(shared);
        TWeights sharedGate = view(shared?.Gate ?? gate), sharedUp = view(shared?.Up ?? up);
        if (expertGateUpCpu is not null)
            expertGateUpCpu(config, view(gate), view(up), sharedGate, sharedUp, x, assignments, act, scratch, shared?.Act ?? act, shared?.Scratch ?? scratch, shape, sharedShape, queue);
        else
            expertGateUp!(config, view(gate), view(up), sharedGate, sharedUp, x, assignments, act, shared?.Act ?? act, shape, sharedShape);
    }

    public override void ExpertDown(
        KernelConfig config, WeightBuffer down, Rows act, ExpertAssignments assignments, Rows output, ExpertShape shape, SharedExperts? shared, RoutedCombine? combine,
        WorkQueue queue)
    {
        var sharedShape = SharedShape.Of(shared);
        TWeights sharedDown = view(shared?.Down ?? down);
        Rows sharedAct = shared?.Act ?? act, hidden = shared?.Hidden ?? output;
        if (expertDownCpu is not null)
            expertDownCpu(config, view(down), sharedDown, act, sharedAct, assignments, output, hidden, combine ?? default, shape, sharedShape, queue);
        else if (combine is null)
            expertDown!(config, view(down), sharedDown, act, sharedAct, assignments, output, hidden, shape, sharedShape);
        else
            throw new InvalidOperationException("the portable expert down body cannot combine in the same launch");
    }

    public override void Lookup(KernelConfig config, WeightBuffer table, ArrayView<int> ids, Rows output, int tokens, int dim) =>
        lookup(config, view(table), ids, output, tokens, dim);
}
