namespace ServerV3.Kernels.Cpu;

/// <summary>
/// A number of tokens fixed when the JIT compiles a CPU GEMM block for it: the block's code for tokens past the count
/// folds away, and each count gets its own machine code without a copy of the source.
/// </summary>
internal interface ITokenCount
{
    static abstract int Count { get; }
}

internal readonly struct FiveTokens : ITokenCount
{
    public static int Count => 5;
}

internal readonly struct SixTokens : ITokenCount
{
    public static int Count => 6;
}

internal readonly struct SevenTokens : ITokenCount
{
    public static int Count => 7;
}
