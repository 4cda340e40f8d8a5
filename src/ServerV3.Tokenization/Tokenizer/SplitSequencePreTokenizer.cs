using Microsoft.ML.Tokenizers;

namespace ServerV3.Tokenization;

/// <summary>
/// The Hugging Face pre-tokenizer <c>Sequence</c> of <c>Split</c> steps, each step splitting
/// every piece of the previous one. Plugged into Microsoft.ML.Tokenizers' BPE model, whose own
/// regex pre-tokenizers keep only matches (Hugging Face also keeps the text between them).
/// </summary>
internal sealed class SplitSequencePreTokenizer(IReadOnlyList<IsolatedRegexSplit> steps) : PreTokenizer
{
    public IReadOnlyList<IsolatedRegexSplit> Steps { get; } = steps;

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) =>
        PreTokenize(text.AsSpan());

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text)
    {
        var pieces = new List<(int Offset, int Length)>();
        if (text.IsEmpty)
            return pieces;
        pieces.Add((0, text.Length));
        foreach (var step in Steps)
        {
            var refined = new List<(int Offset, int Length)>(pieces.Count * 2);
            foreach (var (offset, length) in pieces)
                step.Split(text, offset, length, refined);
            pieces = refined;
        }
        return pieces;
    }
}
