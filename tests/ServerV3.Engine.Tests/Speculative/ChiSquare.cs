namespace ServerV3.Engine.Tests.Speculative;

/// <summary>Pearson's chi-square test of homogeneity for two samples of categories.</summary>
internal static class ChiSquare
{
    /// <summary>
    /// The p-value of "both samples come from one distribution". Categories expected fewer than 5 times in either
    /// sample are pooled into one, as the test's approximation needs.
    /// </summary>
    public static double HomogeneityPValue(IEnumerable<int> first, IEnumerable<int> second)
    {
        var a = first.GroupBy(x => x).ToDictionary(g => g.Key, g => (double)g.Count());
        var b = second.GroupBy(x => x).ToDictionary(g => g.Key, g => (double)g.Count());
        double na = a.Values.Sum(), nb = b.Values.Sum(), n = na + nb;
        var categories = a.Keys.Union(b.Keys).ToList();
        var cells = new List<(double A, double B)>();
        (double A, double B) pooled = (0, 0);
        foreach (int c in categories)
        {
            double ca = a.GetValueOrDefault(c), cb = b.GetValueOrDefault(c);
            double total = ca + cb;
            if (total * Math.Min(na, nb) / n < 5) pooled = (pooled.A + ca, pooled.B + cb);
            else cells.Add((ca, cb));
        }
        if (pooled.A + pooled.B > 0) cells.Add(pooled);
        double statistic = 0;
        foreach (var (ca, cb) in cells)
        {
            double total = ca + cb;
            double ea = total * na / n, eb = total * nb / n;
            statistic += (ca - ea) * (ca - ea) / ea + (cb - eb) * (cb - eb) / eb;
        }
        int degrees = cells.Count - 1;
        return degrees <= 0 ? 1 : UpperRegularizedGamma(degrees / 2.0, statistic / 2);
    }

    /// <summary>Q(s, x) = Γ(s, x) / Γ(s) by its series or continued fraction (Numerical Recipes' gammq).</summary>
    private static double UpperRegularizedGamma(double s, double x)
    {
        if (x <= 0) return 1;
        double logGamma = LogGamma(s);
        if (x < s + 1)
        {
            double sum = 1 / s, term = sum;
            for (int n = 1; n < 1000; n++)
            {
                term *= x / (s + n);
                sum += term;
                if (Math.Abs(term) < Math.Abs(sum) * 1e-15) break;
            }
            return 1 - sum * Math.Exp(-x + s * Math.Log(x) - logGamma);
        }
        double b = x + 1 - s, c = 1e300, d = 1 / b, h = d;
        for (int i = 1; i < 1000; i++)
        {
            double an = -i * (i - s);
            b += 2;
            d = an * d + b;
            if (Math.Abs(d) < 1e-300) d = 1e-300;
            c = b + an / c;
            if (Math.Abs(c) < 1e-300) c = 1e-300;
            d = 1 / d;
            double delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-15) break;
        }
        return Math.Exp(-x + s * Math.Log(x) - logGamma) * h;
    }

    private static double LogGamma(double x)
    {
        double[] coefficients = [76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5];
        double y = x, tmp = x + 5.5;
        tmp -= (x + 0.5) * Math.Log(tmp);
        double series = 1.000000000190015;
        foreach (double c in coefficients) series += c / ++y;
        return -tmp + Math.Log(2.5066282746310005 * series / x);
    }
}
