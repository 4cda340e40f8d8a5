using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ServerV3.Engine.Execution;
using ServerV3.Engine.KvCache;
using ServerV3.Engine.Sampling;
using ServerV3.Engine.Scheduling;

namespace ServerV3.Engine.Runtime;

/// <summary>
/// The engine API: submit prompt token ids with sampling parameters, read the generated tokens as an
/// <see cref="IAsyncEnumerable{T}"/>. One long-lived engine thread owns the accelerator and loops
/// schedule → execute → update; callers never block a thread. Abandoning the enumeration (client gone) aborts the
/// request and frees its blocks at the next step.
/// </summary>
public sealed class InferenceEngine : IDisposable
{
    private readonly LoadedModel model;
    private readonly Scheduler scheduler;
    private readonly ModelRunner runner;
    private readonly ConcurrentQueue<(Sequence Sequence, Channel<TokenEvent> Output)> submissions = new();
    private readonly ConcurrentQueue<Sequence> cancellations = new();
    private readonly Dictionary<Sequence, Channel<TokenEvent>> outputs = [];
    private readonly SemaphoreSlim wake = new(0);
    private readonly HashSet<int> eosTokens;
    private readonly Thread thread;
    private volatile bool stopping;
    private long order;
    private long steps, promptTokensComputed, generatedTokens;

    public InferenceEngine(LoadedModel model, SchedulerOptions options)
    {
        if (options.MaxBatchTokens > model.Model.Options.MaxTokensPerStep || options.MaxRunning > model.Model.Options.MaxSequences)
            throw new ArgumentException("scheduler limits exceed the model workspace", nameof(options));
        this.model = model;
        var cache = new KvCacheManager(model.Blocks, model.Cache.BlockSize);
        scheduler = new Scheduler(cache, options);
        runner = new ModelRunner(model.Model, cache);
        eosTokens = [.. model.Config.EosTokenIds];
        Publish();
        thread = new Thread(Loop) { IsBackground = true, Name = "serverv3-engine" };
        thread.Start();
    }

    public EngineCounters Counters { get; private set; } = new();

    /// <summary>Context length: prompt plus max_tokens must fit.</summary>
    public int MaxModelLength => model.Config.MaxPositionEmbeddings;

    public async IAsyncEnumerable<TokenEvent> Generate(
        IReadOnlyList<int> prompt, SamplingParams sampling, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var sequence = Validate(prompt, sampling);
        var output = Channel.CreateUnbounded<TokenEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        submissions.Enqueue((sequence, output));
        wake.Release();
        bool finished = false;
        try
        {
            await foreach (var item in output.Reader.ReadAllAsync(cancellationToken))
            {
                finished = item.Finish is not null;
                yield return item;
            }
        }
        finally
        {
            if (!finished)
            {
                cancellations.Enqueue(sequence);
                wake.Release();
            }
        }
    }

    public void Dispose()
    {
        stopping = true;
        wake.Release();
        thread.Join();
        wake.Dispose();
    }

    private Sequence Validate(IReadOnlyList<int> prompt, SamplingParams sampling)
    {
        if (prompt.Count == 0) throw new RequestRejectedException("the prompt is empty");
        int bad = prompt.ToList().FindIndex(id => (uint)id >= (uint)model.Config.VocabSize);
        if (bad >= 0) throw new RequestRejectedException($"prompt token {bad} is id {prompt[bad]}, outside the vocabulary [0, {model.Config.VocabSize})");
        if (sampling.MaxTokens < 1) throw new RequestRejectedException($"max_tokens must be at least 1, got {sampling.MaxTokens}");
        int total = prompt.Count + sampling.MaxTokens;
        if (total > MaxModelLength)
            throw new RequestRejectedException(
                $"the prompt ({prompt.Count} tokens) plus max_tokens ({sampling.MaxTokens}) is {total} tokens, beyond the model's context length of {MaxModelLength}");
        if (!scheduler.CanEverFit(total))
            throw new RequestRejectedException($"{total} tokens can never fit in the KV cache ({model.Cache.NumBlocks} blocks of {model.Cache.BlockSize}); raise --kv-cache-memory");
        return new Sequence(Interlocked.Increment(ref order), prompt, sampling);
    }

    private void Loop()
    {
        while (!stopping)
        {
            Admit();
            if (!scheduler.HasWork)
            {
                wake.Wait();
                continue;
            }
            Step();
        }
        foreach (var sequence in outputs.Keys.ToList()) End(sequence, FinishReason.Abort);
    }

    private void Admit()
    {
        while (submissions.TryDequeue(out var submission))
        {
            outputs[submission.Sequence] = submission.Output;
            scheduler.Add(submission.Sequence);
        }
        while (cancellations.TryDequeue(out var sequence))
            if (outputs.ContainsKey(sequence)) End(sequence, FinishReason.Abort);
        Publish();
    }

    private void Step()
    {
        var plan = scheduler.Schedule();
        if (plan.IsEmpty) return;
        IReadOnlyList<SampledToken> sampled;
        try
        {
            sampled = runner.Execute(plan);
        }
        catch (Exception e)
        {
            foreach (var (sequence, _) in plan.Scheduled) Fail(sequence, e);
            return;
        }
        foreach (var (sequence, tokens) in plan.Scheduled)
            promptTokensComputed += Math.Max(0, Math.Min(sequence.PromptLength, sequence.NumComputedTokens + tokens) - sequence.NumComputedTokens);
        scheduler.Computed(plan);
        foreach (var (sequence, token, logprobs) in sampled)
        {
            sequence.Append(token);
            generatedTokens++;
            FinishReason? finish =
                sequence.Sampling.StopTokenIds.Contains(token) || (!sequence.Sampling.IgnoreEos && eosTokens.Contains(token)) ? FinishReason.Stop
                : sequence.NumOutputTokens >= sequence.Sampling.MaxTokens || sequence.NumTokens >= MaxModelLength ? FinishReason.Length
                : null;
            outputs[sequence].Writer.TryWrite(new TokenEvent(token, logprobs, finish));
            if (finish is { } reason) End(sequence, reason, sendEvent: false);
        }
        steps++;
        Publish();
    }

    private void End(Sequence sequence, FinishReason reason, bool sendEvent = true)
    {
        scheduler.Finish(sequence, reason);
        if (!outputs.Remove(sequence, out var output)) return;
        if (sendEvent) output.Writer.TryWrite(new TokenEvent(-1, null, reason));
        output.Writer.TryComplete();
    }

    private void Fail(Sequence sequence, Exception error)
    {
        scheduler.Finish(sequence, FinishReason.Abort);
        if (outputs.Remove(sequence, out var output)) output.Writer.TryComplete(error);
    }

    private void Publish()
    {
        var cache = scheduler.Cache;
        Counters = new EngineCounters
        {
            NumRunning = scheduler.Running.Count,
            NumWaiting = scheduler.NumWaiting,
            NumFreeBlocks = cache.NumFreeBlocks,
            NumBlocks = cache.NumBlocks,
            PrefixQueriedTokens = cache.PrefixQueriedTokens,
            PrefixHitTokens = cache.PrefixHitTokens,
            NumPreemptions = scheduler.NumPreemptions,
            Steps = steps,
            PromptTokensComputed = promptTokensComputed,
            GeneratedTokens = generatedTokens,
        };
    }
}
