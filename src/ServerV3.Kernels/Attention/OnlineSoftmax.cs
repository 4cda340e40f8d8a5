using ILGPU;

namespace ServerV3.Kernels.Attention;

/// <summary>
/// A group's online softmax over blocks of scores: the running maximum, the sum of the weights so far (in units of
/// that maximum) and the factor by which the last <see cref="Step"/> rescaled what came before.
/// </summary>
public readonly struct OnlineSoftmax(float max, float denominator, float correction)
{
    public float Max { get; } = max;
    public float Denominator { get; } = denominator;
    public float Correction { get; } = correction;

    public static OnlineSoftmax Start => new(float.NegativeInfinity, 0, 0);

    /// <summary>
    /// weights[i] = exp(scores[i] - new max) for i &lt; count (each thread its lanes, then a group barrier); every
    /// thread takes the block's maximum and weight sum in position order, so all agree whatever the group size.
    /// </summary>
    public static OnlineSoftmax Step(OnlineSoftmax state, ArrayView<float> scores, ArrayView<float> weights, int count)
    {
        float newMax = state.Max;
        for (int i = 0; i < count; i++) newMax = MathF.Max(newMax, scores[i]);
        for (int i = Group.IdxX; i < count; i += Group.DimX) weights[i] = MathF.Exp(scores[i] - newMax);
        Group.Barrier();
        float correction = MathF.Exp(state.Max - newMax), blockSum = 0;
        for (int i = 0; i < count; i++) blockSum += weights[i];
        return new OnlineSoftmax(newMax, state.Denominator * correction + blockSum, correction);
    }
}
