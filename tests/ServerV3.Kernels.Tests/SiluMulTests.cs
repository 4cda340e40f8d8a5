using ServerV3.Kernels.Cpu;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Numerics;

namespace ServerV3.Kernels.Tests;

/// <summary>The CPU path's SwiGLU product silu(gate) * up, computed 16 columns at a time with a polynomial e^x.</summary>
[Collection(KernelDeviceCollection.Name)]
public sealed class SiluMulTests(KernelTestDevice device)
{
    private const int Tokens = 3, Cols = 37, Stride = 40;

    /// <summary>Inputs up to ±100 reach past e^x's clamped range (silu is then 0 or x).</summary>
    [Fact]
    public void MatchesTheReferenceOverTheWholeRange()
    {
        var random = new Random(11);
        var gate = Enumerable.Range(0, Tokens * Stride).Select(_ => (float)(random.NextDouble() * 200 - 100)).ToArray();
        gate[0] = -100;
        gate[1] = 100;
        gate[2] = 0;
        var up = KernelTestDevice.RandomValues(random, Tokens * Stride);

        var actual = Run(gate, up, 0);

        var expected = new float[Tokens * Stride];
        for (int t = 0; t < Tokens; t++)
            for (int c = 0; c < Stride; c++)
            {
                int i = t * Stride + c;
                expected[i] = c < Cols ? Reference.Silu(gate[i]) * up[i] : gate[i];
            }
        Assert.True(RelativeError.L2(actual, expected) < 1e-6);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-6 * Math.Max(1, Math.Abs(expected[i])), $"element {i}");
    }

    /// <summary>A column's value does not depend on where its block of columns starts (the last columns of a row go
    /// through the same vector code as the others).</summary>
    [Fact]
    public void AColumnsValueDoesNotDependOnTheBlock()
    {
        var random = new Random(12);
        var gate = KernelTestDevice.RandomValues(random, Tokens * Stride, 8);
        var up = KernelTestDevice.RandomValues(random, Tokens * Stride);

        var whole = Run(gate, up, 0);
        var shifted = Run(gate, up, 5);

        for (int t = 0; t < Tokens; t++)
            for (int c = 5; c < Cols; c++) Assert.Equal(whole[t * Stride + c], shifted[t * Stride + c]);
    }

    private float[] Run(float[] gate, float[] up, int colStart)
    {
        var act = device.Upload(gate.ToArray());
        CpuKernels.SiluMul(new Rows(act, Stride), new Rows(device.Upload(up), Stride), 0, Tokens, colStart, Cols);
        return KernelTestDevice.Download(act);
    }
}
