using ILGPU;
using ILGPU.Runtime;
using ServerV3.Kernels.Activation;
using ServerV3.Kernels.Attention;
using ServerV3.Kernels.Embedding;
using ServerV3.Kernels.Gemm;
using ServerV3.Kernels.Moe;
using ServerV3.Kernels.Weights;

namespace ServerV3.Kernels.Launch;

/// <summary>The kernels that read weights, compiled for one storage format.</summary>
internal abstract class FormatKernels
{
    public abstract void Linear(KernelConfig config, WeightBuffer w, int matrix, Rows x, Rows y, LinearShape shape);

    public abstract void GateUp(KernelConfig config, WeightBuffer gate, WeightBuffer up, Rows x, Rows act, LinearShape shape);

    public abstract void AbsorbQuery(KernelConfig config, WeightBuffer kvB, Rows q, Rows qAbs, MlaShape shape);

    public abstract void ExpandValues(KernelConfig config, WeightBuffer kvB, Rows latent, Rows o, MlaShape shape);

    public abstract void ExpertGateUp(KernelConfig config, WeightBuffer gate, WeightBuffer up, Rows x, ExpertAssignments assignments, Rows act, ExpertShape shape);

    public abstract void ExpertDown(KernelConfig config, WeightBuffer down, Rows act, ExpertAssignments assignments, Rows output, ExpertShape shape);

    public abstract void Lookup(KernelConfig config, WeightBuffer table, ArrayView<int> ids, Rows output, int tokens, int dim);
}

internal sealed class FormatKernels<TWeights>(Accelerator accelerator, Func<WeightBuffer, TWeights> view) : FormatKernels
    where TWeights : struct, IWeightMatrix
{
    private readonly Action<KernelConfig, TWeights, int, Rows, Rows, LinearShape> linear =
        accelerator.LoadStreamKernel<TWeights, int, Rows, Rows, LinearShape>(LinearKernels.Linear);
    private readonly Action<KernelConfig, TWeights, TWeights, Rows, Rows, LinearShape> gateUp =
        accelerator.LoadStreamKernel<TWeights, TWeights, Rows, Rows, LinearShape>(SwiGluKernels.GateUp);
    private readonly Action<KernelConfig, TWeights, Rows, Rows, MlaShape> absorbQuery =
        accelerator.LoadStreamKernel<TWeights, Rows, Rows, MlaShape>(MlaKernels.AbsorbQuery);
    private readonly Action<KernelConfig, TWeights, Rows, Rows, MlaShape> expandValues =
        accelerator.LoadStreamKernel<TWeights, Rows, Rows, MlaShape>(MlaKernels.ExpandValues);
    private readonly Action<KernelConfig, TWeights, TWeights, Rows, ExpertAssignments, Rows, ExpertShape> expertGateUp =
        accelerator.LoadStreamKernel<TWeights, TWeights, Rows, ExpertAssignments, Rows, ExpertShape>(MoeKernels.ExpertGateUp);
    private readonly Action<KernelConfig, TWeights, Rows, ExpertAssignments, Rows, ExpertShape> expertDown =
        accelerator.LoadStreamKernel<TWeights, Rows, ExpertAssignments, Rows, ExpertShape>(MoeKernels.ExpertDown);
    private readonly Action<KernelConfig, TWeights, ArrayView<int>, Rows, int, int> lookup =
        accelerator.LoadStreamKernel<TWeights, ArrayView<int>, Rows, int, int>(EmbeddingKernels.Lookup);

    public override void Linear(KernelConfig config, WeightBuffer w, int matrix, Rows x, Rows y, LinearShape shape) =>
        linear(config, view(w), matrix, x, y, shape);

    public override void GateUp(KernelConfig config, WeightBuffer gate, WeightBuffer up, Rows x, Rows act, LinearShape shape) =>
        gateUp(config, view(gate), view(up), x, act, shape);

    public override void AbsorbQuery(KernelConfig config, WeightBuffer kvB, Rows q, Rows qAbs, MlaShape shape) =>
        absorbQuery(config, view(kvB), q, qAbs, shape);

    public override void ExpandValues(KernelConfig config, WeightBuffer kvB, Rows latent, Rows o, MlaShape shape) =>
        expandValues(config, view(kvB), latent, o, shape);

    public override void ExpertGateUp(KernelConfig config, WeightBuffer gate, WeightBuffer up, Rows x, ExpertAssignments assignments, Rows act, ExpertShape shape) =>
        expertGateUp(config, view(gate), view(up), x, assignments, act, shape);

    public override void ExpertDown(KernelConfig config, WeightBuffer down, Rows act, ExpertAssignments assignments, Rows output, ExpertShape shape) =>
        expertDown(config, view(down), act, assignments, output, shape);

    public override void Lookup(KernelConfig config, WeightBuffer table, ArrayView<int> ids, Rows output, int tokens, int dim) =>
        lookup(config, view(table), ids, output, tokens, dim);
}
