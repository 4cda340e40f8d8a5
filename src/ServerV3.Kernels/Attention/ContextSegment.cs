namespace ServerV3.Kernels.Attention;

/// <summary>
/// Context positions [Start, Start + Length) of an expanded-attention launch: its keys and values are rows 0..Length - 1
/// of the launch's buffers. First and Last (1 or 0) say whether the launch starts each token's softmax and whether it
/// ends it (dividing the output by the sum of the weights); in between, the running maximum and sum wait in a state
/// buffer and the unnormalised output in o. Start is a multiple of every body's block of positions, so a context in
/// segments gives the same bits as one segment.
/// </summary>
public readonly record struct ContextSegment(int Start, int Length, int First, int Last)
{
    /// <summary>The whole context in one launch.</summary>
    public static ContextSegment Whole(int length) => new(0, length, 1, 1);
}
