using ServerV3.Engine.Model;
using ServerV3.Engine.Runtime;
using ServerV3.Engine.Sampling;

namespace ServerV3.Engine.Execution;

/// <summary>
/// One sequence evaluated on its own (the `logits` command, tests and the benchmark): prompts run as batched
/// forwards in chunks that fit the workspace, decoding appends one token at a time over the cached prefix.
/// Owns its cache blocks until disposed.
/// </summary>
public sealed class SequenceSession : IDisposable
{
    private readonly LoadedModel model;
    private readonly int[] blockTable;
    private readonly List<int> tokens = [];

    public SequenceSession(LoadedModel model, int capacityTokens)
    {
        this.model = model;
        int blocks = (capacityTokens + model.Cache.BlockSize - 1) / model.Cache.BlockSize;
        if (blocks > model.Blocks.NumFreeBlocks)
            throw new InvalidOperationException(
                $"{capacityTokens} tokens need {blocks} cache blocks but {model.Blocks.NumFreeBlocks} are free; raise --kv-cache-memory");
        blockTable = Enumerable.Range(0, blocks).Select(_ => model.Blocks.Allocate()).ToArray();
        CapacityTokens = capacityTokens;
    }

    public int CapacityTokens { get; }

    /// <summary>The sequence's cache blocks (for callers that batch several sessions into one step).</summary>
    public int[] BlockTable => blockTable;

    public IReadOnlyList<int> Tokens => tokens;

    /// <summary>
    /// Appends tokens; returns the logits of every appended position ([count, vocab]) and, when the model has an
    /// MTP layer and <paramref name="withMtp"/>, the MTP logits of every appended position whose next token is
    /// known ([count - 1, vocab] for a prompt).
    /// </summary>
    public (float[] Logits, float[] MtpLogits) Append(IReadOnlyList<int> newTokens, bool withMtp, IActivationObserver? observer = null)
    {
        EnsureRoomFor(newTokens.Count);
        int chunk = Math.Min(model.Model.Options.MaxTokensPerStep, model.Model.Options.MaxLogitRows);
        var logits = new List<float>();
        var mtpLogits = new List<float>();
        int start = tokens.Count;
        tokens.AddRange(newTokens);
        for (int offset = 0; offset < newTokens.Count; offset += chunk)
        {
            int count = Math.Min(chunk, newTokens.Count - offset);
            var batch = StepBatch.ForSequence(tokens.GetRange(start + offset, count), start + offset, blockTable, allLogits: true);
            logits.AddRange(model.Model.Forward(batch, observer).Span);
            // MTP row i pairs h_i with token i+1, so it needs the token after the chunk's last position.
            int mtpRows = Math.Min(count, tokens.Count - 1 - (start + offset));
            if (withMtp && model.Weights.Mtp is not null && mtpRows > 0)
            {
                var mtpBatch = StepBatch.ForSequence(tokens.GetRange(start + offset + 1, mtpRows), start + offset, blockTable, allLogits: true);
                mtpLogits.AddRange(model.Model.ForwardMtp(mtpBatch, Enumerable.Range(0, mtpRows).ToArray(), observer: observer).Span);
            }
        }
        return ([.. logits], [.. mtpLogits]);
    }

    /// <summary>
    /// Appends a prompt as the engine prefills it: chunks of at most a step's tokens, logits for the last position
    /// only (no lm_head work for the others, none at all for the chunks before the last). Returns those logits.
    /// </summary>
    public float[] Prefill(IReadOnlyList<int> prompt)
    {
        if (prompt.Count == 0) throw new ArgumentException("an empty prompt has nothing to prefill", nameof(prompt));
        EnsureRoomFor(prompt.Count);
        int chunk = model.Model.Options.MaxTokensPerStep, start = tokens.Count;
        tokens.AddRange(prompt);
        var logits = Memory<float>.Empty;
        for (int offset = 0; offset < prompt.Count; offset += chunk)
        {
            int count = Math.Min(chunk, prompt.Count - offset);
            var batch = StepBatch.ForSequence(tokens.GetRange(start + offset, count), start + offset, blockTable, allLogits: false);
            logits = model.Model.Forward(offset + count == prompt.Count ? batch : batch with { LogitRows = [] });
        }
        return logits.ToArray();
    }

    private void EnsureRoomFor(int count)
    {
        if (tokens.Count + count > CapacityTokens)
            throw new InvalidOperationException($"{tokens.Count + count} tokens exceed the session's capacity of {CapacityTokens}");
    }

    /// <summary>Greedy continuation by incremental decoding (argmax each step, no stop token).</summary>
    public int[] Greedy(ReadOnlySpan<float> lastLogits, int count)
    {
        var generated = new int[count];
        float[] logits = lastLogits.ToArray();
        for (int i = 0; i < count; i++)
        {
            generated[i] = Sampler.ArgMax(logits);
            if (i + 1 < count) logits = Append([generated[i]], withMtp: false).Logits;
        }
        return generated;
    }

    public void Dispose()
    {
        foreach (int block in blockTable) model.Blocks.Release(block);
    }
}
