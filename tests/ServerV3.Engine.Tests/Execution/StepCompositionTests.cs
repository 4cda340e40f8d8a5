using ServerV3.Engine.Execution;
using ServerV3.Engine.Model;
using ServerV3.Engine.Runtime;

namespace ServerV3.Engine.Tests.Execution;

/// <summary>
/// Batch invariance at the level of one forward: every position's logits are bit-identical whatever shares its
/// step. Several sequences advance through their prefill chunks and single tokens in random mixes and are compared with
/// each sequence computed alone through the same chunks. The model attends chunks of <see cref="ExpandedFrom"/> or more
/// tokens in the expanded form and the rest absorbed, so both forms meet each other in the steps.
/// </summary>
[Collection(GoldenModelsCollection.Name)]
public sealed class StepCompositionTests(GoldenModels models)
{
    private const int Sequences = 6;
    private const int ExpandedFrom = 12;

    /// <param name="longest">Sequence 0's length, the others' bound: past 256 positions the CPU attention folds segments.</param>
    [Theory]
    [InlineData(1, 140)]
    [InlineData(2, 140)]
    [InlineData(3, 140)]
    [InlineData(4, 320)]
    public void LogitsDoNotDependOnWhatSharesTheStep(int seed, int longest)
    {
        var (model, _) = models.Get("tiny-v3", new ModelShapeOptions { ExpandedAttentionMinTokens = ExpandedFrom });
        int vocab = model.Config.VocabSize;
        var random = new Random(seed);
        var tokens = Enumerable.Range(0, Sequences).Select(s =>
            Enumerable.Range(0, s == 0 ? longest : random.Next(1, longest)).Select(_ => random.Next(vocab)).ToArray()).ToArray();
        // Each sequence's chunks: 1 (a decode step's token) or 1..24 tokens.
        var chunks = tokens.Select(sequence =>
        {
            var sizes = new List<int>();
            for (int done = 0; done < sequence.Length; done += sizes[^1])
                sizes.Add(Math.Min(sequence.Length - done, random.Next(2) == 0 ? 1 : random.Next(1, 25)));
            return sizes;
        }).ToArray();

        var alone = tokens.Select((sequence, s) =>
        {
            var table = Allocate(model, sequence.Length);
            try
            {
                var logits = new List<float>();
                int done = 0;
                foreach (int size in chunks[s])
                {
                    logits.AddRange(model.Model.Forward(StepBatch.ForSequence(sequence[done..(done + size)], done, table, allLogits: true)).ToArray());
                    done += size;
                }
                return logits.ToArray();
            }
            finally
            {
                foreach (int block in table) model.Blocks.Release(block);
            }
        }).ToArray();

        var tables = tokens.Select(sequence => Allocate(model, sequence.Length)).ToArray();
        try
        {
            var done = new int[Sequences];
            var next = new int[Sequences];
            while (next.Zip(chunks).Any(p => p.First < p.Second.Count))
            {
                // A random subset of the sequences, each with its next chunk.
                var step = Enumerable.Range(0, Sequences).Where(s => next[s] < chunks[s].Count && random.Next(3) > 0)
                    .Select(s => (Sequence: s, Count: chunks[s][next[s]])).ToList();
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
                foreach (var (s, count) in step)
                {
                    done[s] += count;
                    next[s]++;
                }
            }
        }
        finally
        {
            foreach (int block in tables.SelectMany(t => t)) model.Blocks.Release(block);
        }
    }

    /// <summary>
    /// The last position of a 512-token sequence decoded alone (the CPU attention goes in parts: a work item per
    /// 256-position segment) and beside nine other sequences' tokens (head groups fold the same segments): same bits.
    /// </summary>
    [Fact]
    public void ALongContextTokenKeepsItsBitsAloneOrInABatch()
    {
        var (model, _) = models.Get("tiny-v3");
        int vocab = model.Config.VocabSize, length = model.Config.MaxPositionEmbeddings;
        var random = new Random(7);
        var sequence = Enumerable.Range(0, length).Select(_ => random.Next(vocab)).ToArray();
        var others = Enumerable.Range(0, 9).Select(_ => random.Next(vocab)).ToArray();
        var table = Allocate(model, length);
        var otherTables = others.Select(_ => Allocate(model, 1)).ToArray();
        try
        {
            for (int done = 0; done < length - 1; done += 100)
                model.Model.Forward(StepBatch.ForSequence(sequence[done..Math.Min(length - 1, done + 100)], done, table, allLogits: false));
            var alone = model.Model.Forward(StepBatch.ForSequence([sequence[^1]], length - 1, table, allLogits: false)).ToArray();
            var batch = new StepBatch([sequence[^1], .. others], [length - 1, .. new int[others.Length]], [.. Enumerable.Range(0, others.Length + 1)],
                [table, .. otherTables], [0]);
            Assert.True(model.Model.Forward(batch).Span[..vocab].SequenceEqual(alone));
        }
        finally
        {
            foreach (int block in table.Concat(otherTables.SelectMany(t => t))) model.Blocks.Release(block);
        }
    }

    private static int[] Allocate(LoadedModel model, int tokens) =>
        [.. Enumerable.Range(0, (tokens + model.Cache.BlockSize - 1) / model.Cache.BlockSize).Select(_ => model.Blocks.Allocate())];
}
