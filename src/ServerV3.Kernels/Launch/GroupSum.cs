using ILGPU;

namespace ServerV3.Kernels.Launch;

/// <summary>The sum over a group of one value per thread, the same in every thread and in a fixed order.</summary>
public static class GroupSum
{
    /// <summary>
    /// Thread i's <paramref name="value"/> goes to <paramref name="partials"/>[i]; every thread then adds them in
    /// thread order, so all return the same total, fixed for a given group size (one thread: the value itself).
    /// Every thread of the group must call it; <paramref name="partials"/> is shared memory of at least the group size.
    /// </summary>
    public static float Of(float value, ArrayView<float> partials)
    {
        int lanes = Group.DimX;
        partials[Group.IdxX] = value;
        Group.Barrier();
        float total = 0;
        for (int i = 0; i < lanes; i++) total += partials[i];
        Group.Barrier(); // the next call overwrites the partials
        return total;
    }
}
