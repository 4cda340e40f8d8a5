using ILGPU.Runtime;

namespace ServerV3.Engine.Moe;

/// <summary>
/// A long-lived host thread that drives one EP rank's accelerator: the engine thread posts a job and later waits for
/// it. Launches on ILGPU's CPU accelerator are synchronous and only separate accelerators driven from separate host
/// threads overlap (DESIGN.md §4), so each rank needs its own thread to run concurrently.
/// </summary>
internal sealed class RankWorker : IDisposable
{
    private readonly Accelerator accelerator;
    private readonly Thread thread;
    private readonly SemaphoreSlim posted = new(0);
    private readonly SemaphoreSlim finished = new(0);
    private Action? job;
    private Exception? failure;
    private volatile bool stopping;

    public RankWorker(Accelerator accelerator, string name)
    {
        this.accelerator = accelerator;
        thread = new Thread(Loop) { IsBackground = true, Name = name };
        thread.Start();
    }

    /// <summary>Starts <paramref name="work"/> on the rank's thread; every Post needs a <see cref="Wait"/> before the next.</summary>
    public void Post(Action work)
    {
        job = work;
        posted.Release();
    }

    /// <summary>Waits for the posted job; returns what it threw, if anything.</summary>
    public Exception? Wait()
    {
        finished.Wait();
        var error = failure;
        failure = null;
        return error;
    }

    public void Dispose()
    {
        stopping = true;
        posted.Release();
        thread.Join();
        posted.Dispose();
        finished.Dispose();
    }

    private void Loop()
    {
        accelerator.Bind();
        while (true)
        {
            posted.Wait();
            if (stopping) return;
            try
            {
                job!();
            }
            catch (Exception e)
            {
                failure = e;
            }
            finished.Release();
        }
    }
}
