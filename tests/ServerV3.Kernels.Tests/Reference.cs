namespace ServerV3.Kernels.Tests;

/// <summary>Plain C# references (float64 accumulation) that the kernels are checked against.</summary>
internal static class Reference
{
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return (float)sum;
    }

    /// <summary>y[t, r] = W[r] · x[t] for W [rows, cols], x [tokens, cols].</summary>
    public static float[] MatMul(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, int tokens)
    {
        var y = new float[tokens * rows];
        for (int t = 0; t < tokens; t++)
            for (int r = 0; r < rows; r++)
                y[t * rows + r] = Dot(w.Slice(r * cols, cols), x.Slice(t * cols, cols));
        return y;
    }

    public static float Silu(float x) => (float)(x / (1 + Math.Exp(-x)));

    public static float Sigmoid(float x) => (float)(1 / (1 + Math.Exp(-x)));

    public static float[] RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float eps)
    {
        double mean = 0;
        foreach (float v in x) mean += (double)v * v;
        double inverse = 1 / Math.Sqrt(mean / x.Length + eps);
        var y = new float[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = (float)(x[i] * inverse * weight[i]);
        return y;
    }

    /// <summary>Interleaved rotation of pairs (2i, 2i+1) by position * invFreq[i].</summary>
    public static float[] Rotate(ReadOnlySpan<float> x, int position, double[] inverseFrequencies)
    {
        var y = x.ToArray();
        for (int i = 0; i < inverseFrequencies.Length; i++)
        {
            double angle = position * inverseFrequencies[i];
            double a = x[2 * i], b = x[2 * i + 1];
            y[2 * i] = (float)(a * Math.Cos(angle) - b * Math.Sin(angle));
            y[2 * i + 1] = (float)(a * Math.Sin(angle) + b * Math.Cos(angle));
        }
        return y;
    }

    public static (double[] Cos, double[] Sin, float[] CosF, float[] SinF) RopeTables(double[] inverseFrequencies, int positions)
    {
        int half = inverseFrequencies.Length;
        var cos = new double[positions * half];
        var sin = new double[positions * half];
        for (int p = 0; p < positions; p++)
            for (int i = 0; i < half; i++)
            {
                cos[p * half + i] = Math.Cos(p * inverseFrequencies[i]);
                sin[p * half + i] = Math.Sin(p * inverseFrequencies[i]);
            }
        return (cos, sin, cos.Select(v => (float)v).ToArray(), sin.Select(v => (float)v).ToArray());
    }
}
