using ServerV3.Engine.Execution;
using ServerV3.Engine.Runtime;

namespace ServerV3.Engine.Tests.Execution;

/// <summary>
/// Batch invariance at the level of one forward: every position's logits are bit-identical whatever shares its
/// step. Several sequences advance through random mixes of prefill chunks and single tokens and are compared
/// with each sequence computed alone.
/// </summary>
[Collection(GoldenModelsCollection.Name)]
public sealed class StepCompositionTests(GoldenModels models)
{
    private const int Sequences = 6;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void LogitsDoNotDependOnWhatSharesTheStep(int seed)
    {
        var (model, _) = models.Get("tiny-v3");
        int vocab = model.Config.VocabSize;
        var random = new Random(seed);
        var tokens = Enumerable.Range(0, Sequences).Select(_ =>
            Enumerable.Range(0, random.Next(1, 140)).Select(_ => random.Next(vocab)).ToArray()).ToArray();

        var alone = tokens.Select(sequence =>
        {
            using var session = new SequenceSession(model, sequence.Length);
            return session.Append(sequence, withMtp: false).Logits;
        }).ToArray();

        var tables = tokens.Select(sequence => Allocate(model, sequence.Length)).ToArray();
        try
        {
            var done = new int[Sequences];
            while (done.Zip(tokens).Any(p => p.First < p.Second.Length))
            {
                // A random subset, each with a chunk of 1..24 tokens (1: a decode step's token).
                var step = Enumerable.Range(0, Sequences).Where(s => done[s] < tokens[s].Length && random.Next(3) > 0)
                    .Select(s => (Sequence: s, Count: Math.Min(tokens[s].Length - done[s], random.Next(2) == 0 ? 1 : random.Next(1, 25)))).ToList();
                if (step.Count == 0) continue;
                var ids = step.SelectMany(x => tokens[x.Sequence].Skip(done[x.Sequence]).Take(x.Count)).ToArray();
                var positions = step.SelectMany(x => Enumerable.Range(done[x.Sequence], x.Count)).ToArray();
                var owners = step.SelectMany((x, i) => Enumerable.Repeat(i, x.Count)).ToArray();
                var logits = model.Model.Forward(new StepBatch(ids, positions, owners, [.. step.Select(x => tables[x.Sequence])],
                    [.. Enumerable.Range(0, ids.Length)])).ToArray();
                for (int row = 0; row < ids.Length; row++)
                {
                    int s = step[owners[row]].Sequence, position = positions[row];
                    Assert.True(logits.AsSpan(row * vocab, vocab).SequenceEqual(alone[s].AsSpan(position * vocab, vocab)),
                        $"sequence {s} position {position} differs in a step of {ids.Length} tokens from {step.Count} sequences");
                }
                foreach (var (s, count) in step) done[s] += count;
            }
        }
        finally
        {
            foreach (int block in tables.SelectMany(t => t)) model.Blocks.Release(block);
        }
    }

    private static int[] Allocate(LoadedModel model, int tokens) =>
        [.. Enumerable.Range(0, (tokens + model.Cache.BlockSize - 1) / model.Cache.BlockSize).Select(_ => model.Blocks.Allocate())];
}
