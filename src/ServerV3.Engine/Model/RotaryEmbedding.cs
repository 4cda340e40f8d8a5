using ServerV3.Engine.Config;

namespace ServerV3.Engine.Model;

/// <summary>
/// DeepSeek-V3's rotary embedding as Hugging Face computes it (modeling_rope_utils._compute_yarn_parameters):
/// YaRN frequency blend at every length, cos/sin scaled by mscale(factor, mscale) / mscale(factor, mscale_all_dim),
/// and the attention softmax scale multiplied by mscale(factor, mscale_all_dim)^2. Computed in float64.
/// </summary>
public static class RotaryEmbedding
{
    public static double[] InverseFrequencies(ModelConfig config)
    {
        int dim = config.QkRopeHeadDim, half = dim / 2;
        var posFreq = Enumerable.Range(0, half).Select(i => Math.Pow(config.RopeTheta, 2.0 * i / dim)).ToArray();
        if (config.RopeScaling is not { } yarn) return posFreq.Select(f => 1 / f).ToArray();

        double Correction(double rotations) =>
            dim * Math.Log(yarn.OriginalMaxPositionEmbeddings / (2 * Math.PI * rotations)) / (2 * Math.Log(config.RopeTheta));
        double low = Math.Max(Math.Floor(Correction(yarn.BetaFast)), 0);
        double high = Math.Min(Math.Ceiling(Correction(yarn.BetaSlow)), dim - 1);
        if (low == high) high += 0.001;
        var inverse = new double[half];
        for (int i = 0; i < half; i++)
        {
            double ramp = Math.Clamp((i - low) / (high - low), 0, 1);
            double extrapolation = 1 - ramp;
            inverse[i] = 1 / (yarn.Factor * posFreq[i]) * (1 - extrapolation) + 1 / posFreq[i] * extrapolation;
        }
        return inverse;
    }

    /// <summary>The magnitude applied to cos and sin.</summary>
    public static double CosSinScale(ModelConfig config) => config.RopeScaling is { } yarn
        ? yarn.Mscale != 0 && yarn.MscaleAllDim != 0
            ? Mscale(yarn.Factor, yarn.Mscale) / Mscale(yarn.Factor, yarn.MscaleAllDim)
            : Mscale(yarn.Factor, 1)
        : 1;

    public static double SoftmaxScale(ModelConfig config)
    {
        double scale = 1 / Math.Sqrt(config.QkHeadDim);
        if (config.RopeScaling is { MscaleAllDim: not 0 } yarn)
        {
            double m = Mscale(yarn.Factor, yarn.MscaleAllDim);
            scale *= m * m;
        }
        return scale;
    }

    /// <summary>cos and sin tables [positions, rope_dim / 2].</summary>
    public static (float[] Cos, float[] Sin) Tables(ModelConfig config, int positions)
    {
        var inverse = InverseFrequencies(config);
        double magnitude = CosSinScale(config);
        int half = inverse.Length;
        var cos = new float[(long)positions * half];
        var sin = new float[(long)positions * half];
        for (int p = 0; p < positions; p++)
        {
            for (int i = 0; i < half; i++)
            {
                double angle = p * inverse[i];
                cos[(long)p * half + i] = (float)(Math.Cos(angle) * magnitude);
                sin[(long)p * half + i] = (float)(Math.Sin(angle) * magnitude);
            }
        }
        return (cos, sin);
    }

    private static double Mscale(double factor, double mscale) => factor <= 1 ? 1 : 0.1 * mscale * Math.Log(factor) + 1;
}
