namespace NetworkSecurity.Learning.Metrics;

/// <summary>
/// The one rule that turns a probability into a class, used by the metrics, the CLI, the API and the model card:
/// a site is phishing (label 0) when its phishing probability is at least <see cref="Threshold"/>, so a probability
/// exactly at the threshold is phishing — the safe side. In terms of P(label 1 = legitimate) = p: legitimate only when
/// p &gt; 0.5. Both forms agree for every double: 1 - p is exact for p ≥ 0.25 (Sterbenz), and below that both say phishing.
/// </summary>
public static class DecisionRule
{
    public const double Threshold = 0.5;

    /// <summary>Human-readable statement of the rule (model card, reports).</summary>
    public const string Description = "phishing when P(phishing) >= 0.5 (a tie is phishing); legitimate when P(legitimate) > 0.5";

    /// <summary>The class (1 legitimate, 0 phishing) for P(label 1).</summary>
    public static int PredictLabel(double legitimateProbability) => IsPhishing(1.0 - legitimateProbability) ? 0 : 1;

    /// <summary>Whether a site with this phishing probability is called phishing. NaN is phishing too.</summary>
    public static bool IsPhishing(double phishingProbability) => !(phishingProbability < Threshold);

    /// <summary>
    /// The phishing probability rounded to <paramref name="decimals"/> for display, on the side of the threshold its
    /// verdict is: a legitimate site at 0.4999997 shows 0.499999 (with 6 decimals), never 0.5, which reads as phishing.
    /// </summary>
    public static double Rounded(double phishingProbability, int decimals)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(decimals);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(decimals, 15);
        var rounded = Math.Round(phishingProbability, decimals, MidpointRounding.AwayFromZero);
        return !IsPhishing(phishingProbability) && IsPhishing(rounded)
            ? Math.Round(Threshold - Math.Pow(10, -decimals), decimals)
            : rounded;
    }
}
