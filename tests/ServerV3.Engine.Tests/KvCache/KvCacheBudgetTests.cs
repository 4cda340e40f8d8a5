using ServerV3.Engine.KvCache;

namespace ServerV3.Engine.Tests.KvCache;

public sealed class KvCacheBudgetTests
{
    [Theory]
    [InlineData("268435456", 268435456L)]
    [InlineData("256MiB", 256L << 20)]
    [InlineData("2GiB", 2L << 30)]
    [InlineData("1.5GB", 1_500_000_000L)]
    [InlineData("512kib", 512L << 10)]
    public void SizesAreBytes(string text, long bytes)
    {
        Assert.True(KvCacheBudget.TryParse(text, out var budget));
        Assert.Equal(bytes, budget.Resolve(freeBytes: 1));
    }

    [Fact]
    public void AFractionTakesThatShareOfTheFreeMemory()
    {
        Assert.True(KvCacheBudget.TryParse("0.9", out var budget));
        Assert.Equal(900, budget.Resolve(freeBytes: 1000));
    }

    [Theory]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("-5")]
    [InlineData("1.5")]
    [InlineData("0")]
    [InlineData("12TB")]
    public void NonsenseIsRejected(string text) => Assert.False(KvCacheBudget.TryParse(text, out _));
}
