namespace ServerV3.Engine.Config;

/// <summary>The <c>rope_scaling</c> block of type "yarn".</summary>
public sealed record YarnScaling(
    double Factor, int OriginalMaxPositionEmbeddings, double BetaFast, double BetaSlow, double Mscale, double MscaleAllDim);
