using ServerV3.Engine.Execution;
using ServerV3.Engine.Moe;
using ServerV3.Engine.Runtime;

namespace ServerV3.Server.Benchmarking;

/// <summary>
/// MoE layer time against the tokens in a step, on the model's expert-parallel ranks: each step is one forward over
/// random tokens (logits for the last row only), timed by <see cref="MoeTimings"/> into gate, dispatch, experts and
/// combine. The model's load window should be <paramref name="iterations"/> steps, so the rank load is the timed steps'.
/// </summary>
public sealed class MoeBenchmark(LoadedModel model, IReadOnlyList<int> tokenCounts, int iterations, int seed = 0)
{
    public MoeBenchReport Run(string modelName)
    {
        var experts = model.Model.Experts;
        var random = new Random(seed);
        var steps = new List<MoeStepTiming>();
        foreach (int tokens in tokenCounts)
        {
            // Warm-up at this size (first touch of the buffers); with redundant experts, place the copies from its load.
            Forward(random, tokens);
            experts.Rebalance();
            var timings = new MoeTimings();
            experts.Timings = timings;
            for (int i = 0; i < iterations; i++) Forward(random, tokens);
            experts.Timings = null;
            double total = timings.Total.TotalSeconds;
            steps.Add(new MoeStepTiming
            {
                Tokens = tokens,
                MoeLayerMilliseconds = total * 1000 / timings.Layers,
                GateShare = timings.Gate.TotalSeconds / total,
                DispatchShare = timings.Dispatch.TotalSeconds / total,
                ExpertsShare = timings.Experts.TotalSeconds / total,
                CombineShare = timings.Combine.TotalSeconds / total,
                RankImbalance = experts.LoadSnapshot().RankImbalance,
            });
        }
        return new MoeBenchReport
        {
            Model = modelName,
            Device = model.Device.Name,
            ExpertParallel = experts.Degree,
            RedundantExperts = experts.RedundantExperts,
            MoeLayers = model.Weights.Layers.Count(l => l.Moe is not null),
            Iterations = iterations,
            Steps = steps,
        };
    }

    private void Forward(Random random, int tokens)
    {
        using var session = new SequenceSession(model, tokens);
        var ids = Enumerable.Range(0, tokens).Select(_ => random.Next(model.Config.VocabSize)).ToArray();
        model.Model.Forward(StepBatch.ForSequence(ids, 0, session.BlockTable, allLogits: false));
    }
}
