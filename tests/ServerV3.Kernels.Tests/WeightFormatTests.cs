using ServerV3.Kernels.Weights;

namespace ServerV3.Kernels.Tests;

/// <summary>The FP8 E4M3 and bfloat16 conversions used for weights.</summary>
public sealed class WeightFormatTests
{
    [Theory]
    [InlineData(0x00, 0f)]
    [InlineData(0x01, 0.001953125f)] // smallest subnormal: 1/8 * 2^-6
    [InlineData(0x08, 0.015625f)] // smallest normal: 2^-6
    [InlineData(0x38, 1f)]
    [InlineData(0x7E, 448f)]
    [InlineData(0xB8, -1f)]
    public void DecodesE4M3(byte bits, float value) => Assert.Equal(value, Fp8E4M3.Decode(bits));

    [Fact]
    public void E4M3HasNaNButNoInfinity()
    {
        Assert.True(float.IsNaN(Fp8E4M3.Decode(0x7F)));
        Assert.True(float.IsNaN(Fp8E4M3.Decode(0xFF)));
        Assert.DoesNotContain(Fp8E4M3.DecodeTable(), float.IsInfinity);
    }

    [Fact]
    public void EncodingRoundTripsEveryFiniteValueAndRoundsToNearestEven()
    {
        for (int bits = 0; bits < 256; bits++)
        {
            float value = Fp8E4M3.Decode((byte)bits);
            if (float.IsNaN(value) || bits == 0x80) continue;
            Assert.Equal((byte)bits, Fp8E4M3.Encode(value));
        }
        Assert.Equal(0x7E, Fp8E4M3.Encode(1e6f)); // saturates at 448
        Assert.Equal(0x38, Fp8E4M3.Encode(1.0625f)); // halfway between 1 (even) and 1.125
        Assert.Equal(0x3A, Fp8E4M3.Encode(1.1875f)); // halfway between 1.125 and 1.25 (even)
    }

    [Fact]
    public void BFloat16RoundsToNearestEven()
    {
        Assert.Equal(1f, BFloat16.ToSingle(BFloat16.FromSingle(1f)));
        Assert.Equal(0x3F80, BFloat16.FromSingle(BitConverter.UInt32BitsToSingle(0x3F808000))); // tie goes to even
        Assert.Equal(0x3F82, BFloat16.FromSingle(BitConverter.UInt32BitsToSingle(0x3F818000))); // tie goes to even
        Assert.Equal(0x3F81, BFloat16.FromSingle(BitConverter.UInt32BitsToSingle(0x3F808001)));
    }
}
