using System.Diagnostics;

namespace ServerV3.Engine.Moe;

/// <summary>
/// Where the time of the MoE layers went while this was set on <see cref="ExpertParallelMoe.Timings"/> (the benchmark's
/// breakdown; phases are synchronised, so timing costs a little). Gate: router and routing, choices to the host.
/// Dispatch: planning, uploads, the gather and the slowest rank's copy of its rows. Experts: the ranks' grouped GEMMs
/// and the shared experts, as the wall time the primary waited. Combine: the slowest rank's copy of its results back
/// and the weighted sum into the residual.
/// </summary>
public sealed class MoeTimings
{
    private long gate, dispatch, experts, combine;

    /// <summary>MoE layers timed.</summary>
    public int Layers { get; private set; }

    public TimeSpan Gate => Stopwatch.GetElapsedTime(0, gate);

    public TimeSpan Dispatch => Stopwatch.GetElapsedTime(0, dispatch);

    public TimeSpan Experts => Stopwatch.GetElapsedTime(0, experts);

    public TimeSpan Combine => Stopwatch.GetElapsedTime(0, combine);

    public TimeSpan Total => Stopwatch.GetElapsedTime(0, gate + dispatch + experts + combine);

    internal void Add(long gateTicks, long dispatchTicks, long expertTicks, long combineTicks)
    {
        gate += gateTicks;
        dispatch += dispatchTicks;
        experts += expertTicks;
        combine += combineTicks;
        Layers++;
    }
}
