namespace ServerV3.Kernels.Numerics;

/// <summary>Relative L2 error ‖a − b‖ / ‖b‖, the project's measure of numerical agreement.</summary>
public static class RelativeError
{
    public static double L2(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length) throw new ArgumentException($"lengths differ: {actual.Length} vs {expected.Length}");
        double difference = 0, reference = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = actual[i] - (double)expected[i];
            difference += d * d;
            reference += (double)expected[i] * expected[i];
        }
        return reference == 0 ? Math.Sqrt(difference) : Math.Sqrt(difference / reference);
    }
}
