using ServerV3.Kernels.Launch;

namespace ServerV3.Kernels.Tests;

/// <summary>The CPU launches' chunks cover their items once each and keep the GEMM's 4-row blocks whole.</summary>
public sealed class WorkQueueTests
{
    [Theory]
    [InlineData(8, 1)]
    [InlineData(8, 10)]
    [InlineData(8, 672)]
    [InlineData(8, 129_280)]
    [InlineData(4, 1_537)]
    public void ChunksTileTheItemsOnMultiplesOfFour(int chunks, int items)
    {
        var queue = new WorkQueue(default, chunks);

        var starts = Enumerable.Range(0, chunks + 1).Select(c => queue.Start(c, items)).ToArray();

        Assert.Equal(0, starts[0]);
        Assert.Equal(items, starts[chunks]);
        for (int c = 0; c < chunks; c++)
        {
            Assert.True(starts[c] <= starts[c + 1]);
            Assert.Equal(0, starts[c] % 4);
        }
        // No chunk is more than four items above an even share.
        Assert.All(Enumerable.Range(0, chunks), c => Assert.True(starts[c + 1] - starts[c] <= items / chunks + 4));
    }
}
