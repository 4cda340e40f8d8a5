using ILGPU;
using ILGPU.Runtime;
using ServerV3.Engine.Config;
using ServerV3.Engine.Execution;
using ServerV3.Engine.KvCache;
using ServerV3.Engine.Moe;
using ServerV3.Engine.Runtime;
using ServerV3.Kernels.Attention;
using ServerV3.Kernels.Gemm;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Rope;

namespace ServerV3.Engine.Model;

/// <summary>
/// The DeepSeek-V3 forward pass as a sequence of kernel launches over one flattened batch: embed, then per layer
/// MLA over the paged latent cache and a dense MLP or DeepSeekMoE (routed experts across the EP ranks, see
/// <see cref="Experts"/>), then the final norm and lm_head for the rows that need logits; and the MTP module over the
/// main model's final-normed hidden states.
/// </summary>
public sealed class DeepSeekV3Model : IDisposable
{
    private readonly KernelSet kernels;
    private readonly Workspace ws;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> ropeCos;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> ropeSin;
    private readonly float softmaxScale;
    private readonly float eps;
    private readonly AttentionPlan attentionPlan;

    public DeepSeekV3Model(
        ComputeDevice device, ModelConfig config, ModelWeights weights, LatentCache cache, ModelShapeOptions options, ExpertParallelOptions? expertParallel = null)
    {
        Config = config;
        Weights = weights;
        Cache = cache;
        Options = options;
        kernels = device.Kernels;
        var accelerator = device.Accelerator;
        int maxBlocksPerSequence = (config.MaxPositionEmbeddings + cache.BlockSize - 1) / cache.BlockSize;
        if (options.ExpandedAttentionMinTokens < 1)
            throw new ArgumentException($"ExpandedAttentionMinTokens must be at least 1, got {options.ExpandedAttentionMinTokens}", nameof(options));
        ws = new Workspace(accelerator, config, options, maxBlocksPerSequence);
        attentionPlan = new AttentionPlan(options.ExpandedAttentionMinTokens, config.MaxPositionEmbeddings, ws.MaxExpandedRuns);
        hostBlockTables = new int[options.MaxSequences * maxBlocksPerSequence];
        var (cos, sin) = RotaryEmbedding.Tables(config, config.MaxPositionEmbeddings);
        ropeCos = HostCopy.Upload<float>(accelerator, cos);
        ropeSin = HostCopy.Upload<float>(accelerator, sin);
        softmaxScale = (float)RotaryEmbedding.SoftmaxScale(config);
        eps = (float)config.RmsNormEps;
        var moeLayers = new List<(int Layer, MoeWeights Weights)>();
        for (int layer = 0; layer < weights.Layers.Count; layer++)
            if (weights.Layers[layer].Moe is { } moe) moeLayers.Add((layer, moe));
        if (weights.Mtp?.Layer.Moe is { } mtpMoe) moeLayers.Add((MtpCacheLayer, mtpMoe));
        Experts = new ExpertParallelMoe(device, config, options, expertParallel ?? new ExpertParallelOptions(), moeLayers);
    }

    public ModelConfig Config { get; }
    public ModelWeights Weights { get; }
    public LatentCache Cache { get; }
    public ModelShapeOptions Options { get; }

    /// <summary>The routed experts across the EP ranks: placement, load statistics, rebalancing.</summary>
    public ExpertParallelMoe Experts { get; }

    private float[] hostLogits = [];
    private readonly int[] hostBlockTables;

    /// <summary>The cache layer of the MTP module (after the main layers).</summary>
    public int MtpCacheLayer => Config.NumHiddenLayers;

    /// <summary>
    /// Runs the main model; returns logits [batch.LogitRows.Length, vocab] (row-major) in the model's host buffer,
    /// which the next forward reuses (a decode step allocates no logits array); the caller may modify them in place.
    /// </summary>
    public Memory<float> Forward(StepBatch batch, IActivationObserver? observer = null)
    {
        int n = Upload(batch);
        Experts.BeginStep();
        int h = Config.HiddenSize;
        kernels.Lookup(Weights.Embed, ws.TokenIds.View, Hidden, n, h);
        Observe(observer, "embed", ws.Hidden, n, h);
        for (int layer = 0; layer < Weights.Layers.Count; layer++)
        {
            RunLayer(Weights.Layers[layer], layer, batch, observer);
            Observe(observer, $"hidden.{layer}", ws.Hidden, n, h);
        }
        kernels.RmsNorm(Hidden, new Rows(ws.Final.View, h), Weights.FinalNorm.View, n, h, eps);
        Observe(observer, "final_hidden", ws.Final, n, h);
        return Logits(Weights.LmHead, new Rows(ws.Final.View, h), batch.LogitRows.Length);
    }

    /// <summary>
    /// Runs the MTP module: row t combines the main model's final-normed hidden state at row
    /// <paramref name="hiddenRows"/>[t] of the previous <see cref="Forward"/> with the embedding of batch.TokenIds[t]
    /// (the token after it), at batch.Positions[t] (the hidden state's position). No masking at position 0
    /// (the DeepSeek-V3 report's and SGLang's form). With <paramref name="fromMtpOutput"/> the hidden states are
    /// instead the MTP layer's outputs of the previous ForwardMtp (drafting a second token and beyond).
    /// Returns logits for batch.LogitRows, in the host buffer <see cref="Forward"/> also returns.
    /// </summary>
    public Memory<float> ForwardMtp(StepBatch batch, int[] hiddenRows, bool fromMtpOutput = false, IActivationObserver? observer = null)
    {
        var mtp = Weights.Mtp ?? throw new InvalidOperationException("the model has no MTP layer");
        int h = Config.HiddenSize;
        // The gather below reads the hidden states before this call overwrites them; the batch upload does not touch them.
        int n = Upload(batch);
        if (hiddenRows.Length != n) throw new ArgumentException($"{hiddenRows.Length} hidden rows for {n} tokens", nameof(hiddenRows));
        HostCopy.ToDevice(ws.SourceRows.View, hiddenRows.AsSpan(0, n));
        var concat = new Rows(ws.Concat.View, 2 * h);
        // Embedding half first, as vLLM and SGLang concatenate for the released weights.
        kernels.Lookup(mtp.Embed, ws.TokenIds.View, Normed, n, h);
        kernels.RmsNorm(Normed, concat, mtp.ENorm.View, n, h, eps);
        kernels.GatherRows(fromMtpOutput ? Hidden : new Rows(ws.Final.View, h), ws.SourceRows.View, new Rows(ws.Gathered.View, h), n, h);
        kernels.RmsNorm(new Rows(ws.Gathered.View, h), concat.Columns(h), mtp.HNorm.View, n, h, eps);
        kernels.Linear(mtp.EhProj, 0, concat, Hidden, new LinearShape(n, 2 * h, h, 0));
        Observe(observer, "mtp.eh_proj", ws.Hidden, n, h);
        RunLayer(mtp.Layer, MtpCacheLayer, batch, observer);
        Observe(observer, "mtp.hidden", ws.Hidden, n, h);
        kernels.RmsNorm(Hidden, new Rows(ws.Final.View, h), mtp.HeadNorm.View, n, h, eps);
        return Logits(mtp.Head, new Rows(ws.Final.View, h), batch.LogitRows.Length);
    }

    public void Dispose()
    {
        Experts.Dispose();
        ws.Dispose();
        ropeCos.Dispose();
        ropeSin.Dispose();
    }

    private Rows Hidden => new(ws.Hidden.View, Config.HiddenSize);

    private Rows Normed => new(ws.Normed.View, Config.HiddenSize);

    private RopeTables Rope => new(ropeCos.View, ropeSin.View);

    private int Upload(StepBatch batch)
    {
        int n = batch.NumTokens;
        if (n == 0 || n > Options.MaxTokensPerStep)
            throw new ArgumentException($"a step has {n} tokens; between 1 and {Options.MaxTokensPerStep} are allowed");
        if (batch.LogitRows.Length > Options.MaxLogitRows)
            throw new ArgumentException($"{batch.LogitRows.Length} logit rows; at most {Options.MaxLogitRows} are allowed");
        if (batch.BlockTables.Length > Options.MaxSequences)
            throw new ArgumentException($"{batch.BlockTables.Length} sequences; at most {Options.MaxSequences} are allowed");
        foreach (int id in batch.TokenIds)
            if ((uint)id >= (uint)Config.VocabSize) throw new ArgumentException($"token id {id} is outside the vocabulary [0, {Config.VocabSize})");
        for (int t = 0; t < n; t++)
        {
            int position = batch.Positions[t];
            var table = batch.BlockTables[batch.TokenSequence[t]];
            if ((uint)position >= (uint)Config.MaxPositionEmbeddings || position / Cache.BlockSize >= table.Length)
                throw new ArgumentException($"position {position} has no cache block (max_position_embeddings {Config.MaxPositionEmbeddings})");
        }
        HostCopy.ToDevice(ws.TokenIds.View, batch.TokenIds.AsSpan(0, n));
        HostCopy.ToDevice(ws.Positions.View, batch.Positions.AsSpan(0, n));
        HostCopy.ToDevice(ws.TokenSequence.View, batch.TokenSequence.AsSpan(0, n));
        // One upload of every sequence's table, staged in a buffer the model keeps (a step allocates nothing here).
        var tables = hostBlockTables.AsSpan(0, batch.BlockTables.Length * ws.MaxBlocksPerSequence);
        tables.Clear();
        for (int s = 0; s < batch.BlockTables.Length; s++) batch.BlockTables[s].CopyTo(tables[(s * ws.MaxBlocksPerSequence)..]);
        HostCopy.ToDevice(ws.BlockTables.View, tables);
        HostCopy.ToDevice(ws.LogitRows.View, batch.LogitRows);
        attentionPlan.Build(batch, Cache.BlockSize);
        if (attentionPlan.SlotCount > 0) HostCopy.ToDevice(ws.ContextSlots.View, attentionPlan.Slots.AsSpan(0, attentionPlan.SlotCount));
        return n;
    }

    private PagedLayout Layout =>
        new(ws.BlockTables.View, ws.TokenSequence.View, ws.Positions.View, Cache.BlockSize, ws.MaxBlocksPerSequence);

    /// <summary>The layout of tokens [first, first + count) of the step (token 0 of the view is token first).</summary>
    private PagedLayout LayoutOf(int first, long count) =>
        new(ws.BlockTables.View, ws.TokenSequence.View.SubView(first, count), ws.Positions.View.SubView(first, count), Cache.BlockSize, ws.MaxBlocksPerSequence);

    private void RunLayer(DecoderLayerWeights layer, int cacheLayer, StepBatch batch, IActivationObserver? observer)
    {
        int n = batch.NumTokens;
        Attention(layer.Attention, layer.InputNorm, cacheLayer, n);
        if (layer.Dense is { } dense) Mlp(dense, layer.PostAttentionNorm, n);
        else Moe(layer.Moe!, layer.PostAttentionNorm, n, cacheLayer, observer);
    }

    /// <summary>The attention block on rmsnorm(hidden) (the input norm runs fused into the first projection), adding its output to hidden.</summary>
    private void Attention(AttentionWeights a, MemoryBuffer1D<float, Stride1D.Dense> inputNorm, int cacheLayer, int n)
    {
        var c = Config;
        int h = c.HiddenSize, heads = c.NumAttentionHeads;
        var query = new Rows(ws.Query.View, heads * c.QkHeadDim);
        // The query's first projection and kv_a both read rmsnorm(hidden): one launch computes both. The latent cache
        // write needs only kv_a's output, so it rides with q_b's launch (or has its own without a low-rank query).
        var kva = new Rows(ws.KvLowRank.View, c.LatentCacheWidth);
        var shape = new MlaShape(n, heads, c.QkNopeHeadDim, c.QkRopeHeadDim, c.VHeadDim, c.KvLoraRank, softmaxScale, eps);
        var cache = Cache.Layer(cacheLayer);
        var write = new LatentCacheWrite(kva, a.KvANorm.View, cache, Layout, Rope, shape);
        if (a.QA is { } qa)
        {
            var low = new Rows(ws.QLowRank.View, c.QLoraRank!.Value);
            kernels.NormLinear(Hidden, inputNorm.View, eps, qa, low, n, a.KvA, kva);
            kernels.NormLinear(low, a.QANorm!.View, eps, a.QB!, query, n, latent: write);
        }
        else
        {
            kernels.NormLinear(Hidden, inputNorm.View, eps, a.QProj!, query, n, a.KvA, kva);
            kernels.WriteLatent(write);
        }
        var output = new Rows(ws.AttentionOut.View, heads * c.VHeadDim);
        foreach (var segment in attentionPlan.Segments)
        {
            var segmentQuery = query.From(segment.First);
            var segmentOutput = output.From(segment.First);
            var positions = ws.Positions.View.SubView(segment.First, segment.Count);
            var segmentShape = shape with { Tokens = segment.Count };
            if (segment.Expanded)
            {
                ExpandedAttention(a, cache, segment, segmentQuery, positions, segmentOutput, segmentShape);
                continue;
            }
            kernels.Attention(a.KvB, segmentQuery, positions, Rope, cache, LayoutOf(segment.First, segment.Count),
                new Rows(ws.AbsorbedQuery.View, c.LatentCacheWidth), new Rows(ws.LatentOut.View, c.KvLoraRank), segmentOutput, segmentShape,
                segment.AttendedPositions);
        }
        kernels.Linear(a.O, 0, output, Hidden, new LinearShape(n, heads * c.VHeadDim, h, 1));
    }

    /// <summary>
    /// One prefill chunk in the expanded form, its context a workspace-sized segment at a time: the segment's cache rows
    /// gathered, kv_b_proj over them (keys and values per head), then attention over those, each token's softmax carried
    /// from segment to segment.
    /// </summary>
    private void ExpandedAttention(AttentionWeights a, ArrayView<float> cache, AttentionPlan.Segment run, Rows query, ArrayView<int> positions,
        Rows output, MlaShape shape)
    {
        var c = Config;
        int width = c.LatentCacheWidth, kvWidth = c.NumAttentionHeads * (c.QkNopeHeadDim + c.VHeadDim);
        var latents = new Rows(ws.ContextLatent.View, width);
        var kv = new Rows(ws.ExpandedKv.View, kvWidth);
        int firstPosition = run.Context - run.Count;
        for (int start = 0; start < run.Context; start += ws.ExpandedSegment)
        {
            int length = Math.Min(ws.ExpandedSegment, run.Context - start);
            kernels.GatherRows(new Rows(cache, width), ws.ContextSlots.View.SubView(run.SlotOffset + start, length), latents, length, width);
            kernels.Linear(a.KvB, 0, latents, kv, new LinearShape(length, c.KvLoraRank, kvWidth, 0));
            var segment = new ContextSegment(start, length, start == 0 ? 1 : 0, start + length == run.Context ? 1 : 0);
            long attended = 0;
            for (int i = 0; i < run.Count; i++) attended += Math.Clamp(firstPosition + i + 1L - start, 0, length);
            kernels.ExpandedAttention(query, positions, Rope, kv, latents.Columns(c.KvLoraRank), new Rows(ws.AbsorbedQuery.View, c.QkHeadDim),
                new Rows(ws.ExpandedState.View, 2), output, shape, segment, attended);
        }
    }

    /// <summary>The dense MLP on rmsnorm(hidden) (the norm runs fused into gate/up), adding its output to hidden.</summary>
    private void Mlp(MlpWeights mlp, MemoryBuffer1D<float, Stride1D.Dense> postAttentionNorm, int n)
    {
        int h = Config.HiddenSize;
        var act = new Rows(ws.Activation.View, mlp.Intermediate);
        kernels.GateUp(Hidden, postAttentionNorm.View, eps, mlp.Gate, mlp.Up, act, new Rows(ws.ActivationScratch.View, mlp.Intermediate), n);
        kernels.Linear(mlp.Down, 0, act, Hidden, new LinearShape(n, mlp.Intermediate, h, 1));
    }

    /// <summary>The MoE block on rmsnorm(hidden) (the norm runs fused into the router), adding its output to hidden.</summary>
    private void Moe(MoeWeights moe, MemoryBuffer1D<float, Stride1D.Dense> postAttentionNorm, int n, int layer, IActivationObserver? observer)
    {
        var chosen = Experts.Run(layer, moe, postAttentionNorm.View, Normed, Hidden, n);
        if (observer is null) return;
        observer.Observe($"routing.{layer}.experts", n, Config.NumExpertsPerTok, Array.ConvertAll(chosen.ToArray(), e => (float)e));
        Observe(observer, $"routing.{layer}.weights", Experts.ChosenWeights, n, Config.NumExpertsPerTok);
    }

    private Memory<float> Logits(Kernels.Weights.WeightBuffer head, Rows final, int rows)
    {
        if (rows == 0) return Memory<float>.Empty;
        int h = Config.HiddenSize, vocab = Config.VocabSize;
        var gathered = new Rows(ws.Gathered.View, h);
        kernels.GatherRows(final, ws.LogitRows.View, gathered, rows, h);
        kernels.Linear(head, 0, gathered, new Rows(ws.Logits.View, vocab), new LinearShape(rows, h, vocab, 0));
        int length = checked(rows * vocab);
        // Grows to the largest step seen, then serves every step without allocating.
        if (hostLogits.Length < length) hostLogits = GC.AllocateUninitializedArray<float>(length);
        HostCopy.ToHost(ws.Logits.View, hostLogits.AsSpan(0, length));
        return hostLogits.AsMemory(0, length);
    }

    private static void Observe(IActivationObserver? observer, string name, MemoryBuffer1D<float, Stride1D.Dense> buffer, int rows, int cols)
    {
        if (observer is null) return;
        var values = new float[rows * cols];
        HostCopy.ToHost(buffer.View, values.AsSpan());
        observer.Observe(name, rows, cols, values);
    }
}
