using ServerV3.Engine.Config;
using ServerV3.Engine.Model;
using ServerV3.Kernels.Weights;

namespace ServerV3.Engine.Moe;

/// <summary>
/// The routed experts of one MoE layer spread over the EP ranks: on each rank's accelerator one stacked
/// gate/up/down per projection whose matrices are that rank's slots, in the order of <see cref="Placement"/>.
/// </summary>
public sealed class RoutedExperts : IDisposable
{
    private readonly MlpWeights[] ranks;

    private RoutedExperts(MlpWeights[] ranks, ExpertPlacement placement)
    {
        this.ranks = ranks;
        Placement = placement;
    }

    /// <summary>The placement the stacks follow now (changed only by a rebalance between steps).</summary>
    public ExpertPlacement Placement { get; private set; }

    /// <summary>Each rank's stacked experts (gate, up, down with one matrix per slot).</summary>
    public IReadOnlyList<MlpWeights> Ranks => ranks;

    /// <summary>Weight bytes of one expert (all three projections).</summary>
    public long BytesPerExpert => ranks.Sum(r => r.Gate.Bytes + r.Up.Bytes + r.Down.Bytes) / ranks.Sum(r => r.Gate.Count);

    public static RoutedExperts Load(ExpertSharding sharding, ModelConfig c, string prefix)
    {
        var placement = sharding.InitialPlacement;
        var loaded = new List<WeightBuffer>();
        try
        {
            var ranks = new MlpWeights[placement.Ranks];
            for (int rank = 0; rank < ranks.Length; rank++)
            {
                var loader = sharding.RankLoaders[rank];
                var experts = placement.SlotsOf(rank);
                WeightBuffer Stack(string projection, int rows, int cols)
                {
                    var stack = loader.Stack(experts.Select(e => $"{prefix}experts.{e}.{projection}.weight").ToArray(), rows, cols);
                    loaded.Add(stack);
                    return stack;
                }
                ranks[rank] = new MlpWeights
                {
                    Gate = Stack("gate_proj", c.MoeIntermediateSize, c.HiddenSize),
                    Up = Stack("up_proj", c.MoeIntermediateSize, c.HiddenSize),
                    Down = Stack("down_proj", c.HiddenSize, c.MoeIntermediateSize),
                };
            }
            return new RoutedExperts(ranks, placement);
        }
        catch
        {
            loaded.ForEach(w => w.Dispose());
            throw;
        }
    }

    /// <summary>
    /// Follows <paramref name="next"/>: every slot that changes expert gets that expert's matrices from its home slot
    /// (homes never move). The caller synchronises the accelerators before the next step. Returns the slots rewritten.
    /// </summary>
    internal int MoveTo(ExpertPlacement next)
    {
        int rewritten = 0;
        for (int rank = 0; rank < ranks.Length; rank++)
        {
            var before = Placement.SlotsOf(rank);
            var after = next.SlotsOf(rank);
            for (int slot = 0; slot < after.Count; slot++)
            {
                if (after[slot] == before[slot]) continue;
                var home = next.Replicas(after[slot])[0];
                var source = ranks[home.Rank];
                ranks[rank].Gate.CopyMatrix(slot, source.Gate, home.Slot);
                ranks[rank].Up.CopyMatrix(slot, source.Up, home.Slot);
                ranks[rank].Down.CopyMatrix(slot, source.Down, home.Slot);
                rewritten++;
            }
        }
        Placement = next;
        return rewritten;
    }

    public void Dispose()
    {
        foreach (var rank in ranks) rank.Dispose();
    }
}
