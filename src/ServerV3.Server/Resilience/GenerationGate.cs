using System.Diagnostics;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using ServerV3.Engine.Runtime;
using ServerV3.Protocol;
using ServerV3.Server.Endpoints;
using ServerV3.Server.Generation;
using ServerV3.Server.Hosting;
using ServerV3.Server.Telemetry;

namespace ServerV3.Server.Resilience;

/// <summary>
/// Every generation request passes one Polly pipeline: admission control (a concurrency limiter with a bounded
/// queue; beyond it 429 with Retry-After), a circuit breaker on engine faults (while open, 503 at once; it closes by
/// itself once a trial request succeeds), and a total timeout that ends the request cleanly with finish_reason
/// "length". While the server drains, new requests get 503.
/// </summary>
public sealed class GenerationGate
{
    public static readonly ActivitySource Traces = new("ServerV3");

    private readonly ResiliencePipeline pipeline;
    private readonly DrainState drain;
    private readonly ServerMetrics metrics;
    private readonly ServerOptions options;

    public GenerationGate(IOptions<ServerOptions> options, DrainState drain, ServerMetrics metrics, CircuitState circuit)
    {
        this.options = options.Value;
        this.drain = drain;
        this.metrics = metrics;
        pipeline = new ResiliencePipelineBuilder()
            .AddConcurrencyLimiter(this.options.MaxConcurrentRequests, this.options.MaxQueuedRequests)
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<EngineFaultException>(),
                FailureRatio = 0.5,
                MinimumThroughput = 2,
                SamplingDuration = TimeSpan.FromSeconds(30),
                BreakDuration = TimeSpan.FromSeconds(this.options.BreakDurationSeconds),
                OnOpened = _ => { circuit.Opened(); return ValueTask.CompletedTask; },
                OnClosed = _ => { circuit.Closed(); return ValueTask.CompletedTask; },
            })
            .AddTimeout(TimeSpan.FromSeconds(this.options.RequestTimeoutSeconds))
            .Build();
    }

    public async Task RunAsync(HttpContext context, string operation, Func<GenerationScope, Task> generate)
    {
        if (drain.IsDraining)
        {
            metrics.RecordRejected("draining");
            await HttpIo.WriteErrorAsync(context, ApiError.ServiceUnavailable("the server is shutting down"));
            return;
        }
        using var activity = Traces.StartActivity(operation);
        try
        {
            await pipeline.ExecuteAsync(async token =>
            {
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(token, drain.Deadline);
                var scope = new GenerationScope(stop, context.RequestAborted,
                    () => drain.Deadline.IsCancellationRequested ? "abort" : FinishReasons.Length, metrics, activity);
                await generate(scope);
            }, context.RequestAborted);
        }
        catch (RateLimiterRejectedException e)
        {
            metrics.RecordRejected("admission");
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling((e.RetryAfter ?? TimeSpan.FromSeconds(1)).TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await HttpIo.WriteErrorAsync(context, ApiError.TooManyRequests("the server is at capacity; retry later"));
        }
        catch (BrokenCircuitException e)
        {
            metrics.RecordRejected("circuit_open");
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling((e.RetryAfter ?? TimeSpan.FromSeconds(options.BreakDurationSeconds)).TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await HttpIo.WriteErrorAsync(context, ApiError.ServiceUnavailable("the engine is failing; retry later"));
        }
        catch (EngineFaultException e) when (!context.Response.HasStarted)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            await HttpIo.WriteErrorAsync(context, ApiError.ServiceUnavailable($"the engine failed: {e.Message}"));
        }
        catch (EngineFaultException e)
        {
            // A streamed response already ended with an error event (see EventStream).
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
        }
    }
}
