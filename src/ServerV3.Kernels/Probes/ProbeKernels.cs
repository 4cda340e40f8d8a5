using ILGPU;
using ServerV3.Kernels.Launch;

namespace ServerV3.Kernels.Probes;

/// <summary>
/// The machine probes of `bench` on a GPU: memory bandwidth and fp32 FMA rate measured on the accelerator itself,
/// so the floors and the kernel table's fractions refer to the device the kernels ran on. Grid-stride loops keep
/// neighbouring threads on neighbouring elements (coalesced).
/// </summary>
public static class ProbeKernels
{
    /// <summary>STREAM triad: a = b + s·c.</summary>
    public static void Triad(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, float s)
    {
        for (long i = WorkRange.Thread; i < a.Length; i += WorkRange.Threads) a[i] = b[i] + s * c[i];
    }

    /// <summary>Read-only: each thread sums its strided elements and writes one partial.</summary>
    public static void Read(ArrayView<float> data, ArrayView<float> partials)
    {
        float sum = 0;
        for (long i = WorkRange.Thread; i < data.Length; i += WorkRange.Threads) sum += data[i];
        partials[WorkRange.Thread] = sum;
    }

    /// <summary>Eight independent multiply-add chains per thread (16 flops per iteration).</summary>
    public static void MultiplyAdd(ArrayView<float> output, int iterations)
    {
        float seed = WorkRange.Thread * 1e-7f;
        float a0 = seed, a1 = seed + 1, a2 = seed + 2, a3 = seed + 3, a4 = seed + 4, a5 = seed + 5, a6 = seed + 6, a7 = seed + 7;
        for (int i = 0; i < iterations; i++)
        {
            a0 = a0 * 0.999f + 0.001f;
            a1 = a1 * 0.999f + 0.001f;
            a2 = a2 * 0.999f + 0.001f;
            a3 = a3 * 0.999f + 0.001f;
            a4 = a4 * 0.999f + 0.001f;
            a5 = a5 * 0.999f + 0.001f;
            a6 = a6 * 0.999f + 0.001f;
            a7 = a7 * 0.999f + 0.001f;
        }
        output[WorkRange.Thread] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
    }
}
