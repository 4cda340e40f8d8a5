using System.Threading.Channels;
using ServerV3.Protocol;

namespace ServerV3.Server.Endpoints;

/// <summary>
/// A streamed response of several concurrently generated choices: producers write chunks into one channel, which
/// is sent as server-sent events in arrival order, then the usage chunk (when asked for) and [DONE]. A failure
/// mid-stream becomes an error event, so the client never sees a cut-off stream.
/// </summary>
public static class EventStream
{
    /// <param name="startProducers">Starts one producer per choice; each returns its number of generated tokens.</param>
    /// <param name="usage">The usage chunk for the total generated tokens, or null when none was asked for.</param>
    /// <param name="abandon">Stops the producers when the client can no longer be written to.</param>
    public static async Task WriteAsync<TChunk>(
        HttpContext context, Func<ChannelWriter<TChunk>, Task<int>[]> startProducers, Func<TChunk, byte[]> format, Func<int, TChunk>? usage, Action abandon)
    {
        var events = Channel.CreateUnbounded<TChunk>(new UnboundedChannelOptions { SingleReader = true });
        var producers = startProducers(events.Writer);
        _ = Task.WhenAll(producers).ContinueWith(t => events.Writer.TryComplete(t.Exception?.InnerException), TaskScheduler.Default);
        await HttpIo.StartEventStreamAsync(context);
        try
        {
            await foreach (var chunk in events.Reader.ReadAllAsync(context.RequestAborted))
                await HttpIo.WriteEventAsync(context, format(chunk));
            if (usage is not null) await HttpIo.WriteEventAsync(context, format(usage((await Task.WhenAll(producers)).Sum())));
        }
        catch (Engine.Runtime.EngineFaultException e)
        {
            await HttpIo.WriteEventAsync(context, ServerSentEvents.Format(ApiError.ServiceUnavailable($"the engine failed: {e.Message}")));
            await HttpIo.WriteEventAsync(context, ServerSentEvents.Done);
            throw; // the circuit breaker counts it
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The client is gone: stop generating for it at once.
            abandon();
            throw;
        }
        catch (Exception e)
        {
            await HttpIo.WriteEventAsync(context, ServerSentEvents.Format(ApiError.InternalError(e.Message)));
        }
        finally
        {
            // The producers' cancellation belongs to this request: let them end (a gone client cancels them) before it is released.
            await Task.WhenAll(producers).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        await HttpIo.WriteEventAsync(context, ServerSentEvents.Done);
    }
}
