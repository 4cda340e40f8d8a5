using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ServerV3.Engine.Execution;
using ServerV3.Engine.KvCache;
using ServerV3.Engine.Sampling;
using ServerV3.Engine.Scheduling;
using ServerV3.Engine.Speculative;

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
    private readonly MtpDrafter? drafter;
    private readonly SpeculationCounters speculation;
    private readonly ConcurrentQueue<(Sequence Sequence, Channel<TokenEvent> Output)> submissions = new();
    private readonly ConcurrentQueue<Sequence> cancellations = new();
    private readonly Dictionary<Sequence, Channel<TokenEvent>> outputs = [];
    private readonly SemaphoreSlim wake = new(0);
    private readonly HashSet<int> eosTokens;
    private readonly Thread thread;
    private readonly Func<long, bool>? injectFault;
    private volatile bool stopping;
    private long attemptedSteps;
    private long order;
    private long steps, promptTokensComputed, generatedTokens;

    /// <param name="acceptanceRule">Only tests of the speculative distribution pass anything but the default.</param>
    /// <param name="injectFault">Fault injection for tests and drills: steps (numbered from 0) for which it returns true fail.</param>
    public InferenceEngine(LoadedModel model, SchedulerOptions options, AcceptanceRule acceptanceRule = AcceptanceRule.Exact, Func<long, bool>? injectFault = null)
    {
        this.injectFault = injectFault;
        var workspace = model.Model.Options;
        if (options.MaxBatchTokens > workspace.MaxTokensPerStep || options.MaxRunning > workspace.MaxSequences
            || options.MaxRunning * (1 + options.SpeculativeTokens) > workspace.MaxLogitRows)
            throw new ArgumentException($"scheduler limits {options} exceed the model workspace {workspace}; size it with ModelShapeOptions.ForEngine", nameof(options));
        this.model = model;
        var cache = new KvCacheManager(model.Blocks, model.Cache.BlockSize);
        scheduler = new Scheduler(cache, options with { MaxModelLength = model.Config.MaxPositionEmbeddings });
        runner = new ModelRunner(model.Model, cache, acceptanceRule);
        if (options.SpeculativeTokens > 0)
        {
            if (model.Weights.Mtp is null) throw new ArgumentException("--speculative-tokens needs a model with an MTP layer (num_nextn_predict_layers)", nameof(options));
            drafter = new MtpDrafter(model.Model, cache, options.SpeculativeTokens);
        }
        speculation = new SpeculationCounters(options.SpeculativeTokens);
        eosTokens = [.. model.Config.EosTokenIds];
        Publish();
        thread = new Thread(Loop) { IsBackground = true, Name = "serverv3-engine" };
        thread.Start();
    }

    public EngineCounters Counters { get; private set; } = new();

    /// <summary>Raised on the engine thread after every step (metrics hook; handlers must be quick).</summary>
    public event Action<StepStats>? StepCompleted;

    /// <summary>Context length: prompt plus max_tokens must fit.</summary>
    public int MaxModelLength => model.Config.MaxPositionEmbeddings;

    public async IAsyncEnumerable<TokenEvent> Generate(
        IReadOnlyList<int> prompt, SamplingParams sampling, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        CheckRequest(prompt, sampling);
        var sequence = new Sequence(Interlocked.Increment(ref order), prompt, sampling);
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
        if (stopping) return;
        stopping = true;
        wake.Release();
        thread.Join();
        wake.Dispose();
    }

    /// <summary>Throws <see cref="RequestRejectedException"/> for a request the engine can never serve.</summary>
    public void CheckRequest(IReadOnlyList<int> prompt, SamplingParams sampling)
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
        long started = Stopwatch.GetTimestamp();
        StepResult result;
        try
        {
            if (injectFault?.Invoke(attemptedSteps++) == true) throw new EngineFaultException($"injected fault at step {attemptedSteps - 1}");
            result = runner.Execute(plan);
        }
        catch (Exception e)
        {
            foreach (var (sequence, _) in plan.Scheduled) Fail(sequence, e);
            return;
        }
        var scheduled = plan.Scheduled.ToDictionary(s => s.Sequence, s => s.NumTokens);
        var rejected = result.Outcomes.ToDictionary(o => o.Sequence, o => o.RejectedDrafts);
        foreach (var (sequence, tokens) in plan.Scheduled)
            promptTokensComputed += Math.Max(0, Math.Min(sequence.PromptLength, sequence.NumComputedTokens + tokens) - sequence.NumComputedTokens);
        var mainRows = result.Rows.Select(r => r with { Count = r.Count - rejected.GetValueOrDefault(r.Sequence) }).ToList();
        scheduler.Computed(plan, s => scheduled[s] - rejected.GetValueOrDefault(s));
        var finished = new List<(Sequence, FinishReason)>();
        foreach (var outcome in result.Outcomes)
        {
            speculation.Record(outcome.Drafted, outcome.Accepted);
            if (Emit(outcome) is { } reason) finished.Add((outcome.Sequence, reason));
        }
        foreach (var (sequence, reason) in finished) End(sequence, reason, sendEvent: false);
        if (drafter is not null)
        {
            try
            {
                drafter.Propose(mainRows.Where(r => r.Sequence.Finish is null).ToList(), DraftLimit);
            }
            catch (Exception e)
            {
                foreach (var rows in mainRows.Where(r => r.Sequence.Finish is null)) Fail(rows.Sequence, e);
                return;
            }
        }
        foreach (var (sequence, _) in plan.Scheduled)
            if (sequence.Finish is null) scheduler.Trim(sequence);
        steps++;
        Publish();
        StepCompleted?.Invoke(new StepStats(Stopwatch.GetElapsedTime(started), plan.NumTokens, plan.Scheduled.Count));
    }

    private static int DraftLimit(Sequence sequence) => sequence.Sampling.MaxTokens - sequence.NumOutputTokens - 1;

    /// <summary>Sends a step's tokens of one sequence, up to the first one that finishes it.</summary>
    private FinishReason? Emit(SequenceOutcome outcome)
    {
        var sequence = outcome.Sequence;
        var output = outputs[sequence];
        int emittedBefore = sequence.NumOutputTokens - outcome.Emitted.Count;
        for (int i = 0; i < outcome.Emitted.Count; i++)
        {
            var (token, logprobs) = outcome.Emitted[i];
            int outputTokens = emittedBefore + i + 1;
            generatedTokens++;
            FinishReason? finish =
                sequence.Sampling.StopTokenIds.Contains(token) || (!sequence.Sampling.IgnoreEos && eosTokens.Contains(token)) ? FinishReason.Stop
                : outputTokens >= sequence.Sampling.MaxTokens || sequence.PromptLength + outputTokens >= MaxModelLength ? FinishReason.Length
                : null;
            if (sequence.FirstTokenAt == 0) sequence.FirstTokenAt = Stopwatch.GetTimestamp();
            output.Writer.TryWrite(new TokenEvent(token, logprobs, finish) { Stats = finish is null ? null : Stats(sequence, outputTokens) });
            if (finish is not null) return finish;
        }
        return null;
    }

    private void End(Sequence sequence, FinishReason reason, bool sendEvent = true)
    {
        scheduler.Finish(sequence, reason);
        if (!outputs.Remove(sequence, out var output)) return;
        if (sendEvent) output.Writer.TryWrite(new TokenEvent(-1, null, reason) { Stats = Stats(sequence, sequence.NumOutputTokens) });
        output.Writer.TryComplete();
    }

    private void Fail(Sequence sequence, Exception error)
    {
        scheduler.Finish(sequence, FinishReason.Abort);
        if (outputs.Remove(sequence, out var output))
            output.Writer.TryComplete(error as EngineFaultException ?? new EngineFaultException($"engine step failed: {error.Message}", error));
    }

    private static RequestStats Stats(Sequence sequence, int generated)
    {
        long now = Stopwatch.GetTimestamp();
        long scheduled = sequence.ScheduledAt == 0 ? now : sequence.ScheduledAt;
        long firstToken = sequence.FirstTokenAt == 0 ? now : sequence.FirstTokenAt;
        return new RequestStats(sequence.PromptLength, sequence.NumCachedPromptTokens, generated,
            Stopwatch.GetElapsedTime(sequence.ArrivedAt, scheduled), Stopwatch.GetElapsedTime(scheduled, firstToken),
            Stopwatch.GetElapsedTime(firstToken, now), sequence.NumPreemptions);
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
            Speculation = speculation.Snapshot(),
        };
    }
}
