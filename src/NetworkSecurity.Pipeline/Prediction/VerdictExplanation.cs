using System.Globalization;

namespace NetworkSecurity.Pipeline.Prediction;

/// <summary>
/// Why a record got its verdict, toward phishing: <see cref="BaseValue"/> plus every feature's contribution is the
/// record's phishing score on <see cref="Scale"/> ("log_odds": phishing probability = sigmoid(score);
/// "probability": the phishing probability itself). A positive contribution pushes toward phishing.
/// <see cref="Features"/> holds the top features by absolute contribution, largest first.
/// </summary>
public sealed record VerdictExplanation(double BaseValue, string Scale, IReadOnlyList<FeatureContribution> Features)
{
    public const string LogOdds = "log_odds";
    public const string Probability = "probability";

    /// <summary>The top <paramref name="count"/> features in words, e.g. "SSLfinal_State = -1 (+2.1)"; imputed values marked.</summary>
    public string InWords(int count = 3) => string.Join("; ", Features.Take(count).Select(f => f.InWords()));
}

/// <param name="Value">The value the model saw (after imputation when <paramref name="Imputed"/>).</param>
public sealed record FeatureContribution(string Feature, double Value, bool Imputed, double Contribution)
{
    public string InWords() => string.Create(CultureInfo.InvariantCulture,
        $"{Feature} = {ValueInWords(Value)}{(Imputed ? " (imputed)" : "")} ({ContributionInWords(Contribution)})");

    // Three decimals suit the -1/0/1 features, but a float feature's 1e-7 read "0" and -0.000001234 "-0": not the value
    // the model saw. Below a thousandth, three significant digits.
    private static string ValueInWords(double value) =>
        value != 0 && Math.Abs(value) < 0.0005
            ? value.ToString("G3", CultureInfo.InvariantCulture)
            : value.ToString("0.###", CultureInfo.InvariantCulture);

    // Alike for the contribution: a random forest's, on the probability scale, is often below a thousandth, and "(0)"
    // said the feature had none. "(0)" is kept for exactly none.
    private static string ContributionInWords(double contribution) =>
        contribution != 0 && Math.Abs(contribution) < 0.0005
            ? (contribution > 0 ? "+" : "") + contribution.ToString("G3", CultureInfo.InvariantCulture)
            : contribution.ToString("+0.0##;-0.0##;0", CultureInfo.InvariantCulture);
}

/// <summary>How many features to explain per record: the <c>explain</c> option of the API and the CLI.</summary>
public static class ExplainOption
{
    public const string All = "all";

    /// <summary>"all" or a whole number from 1 to the feature count; anything else is an error naming the allowed values.</summary>
    public static bool TryParse(string? text, int featureCount, out int top, out string error)
    {
        top = 0;
        error = "";
        var value = text?.Trim() ?? "";
        if (value.Equals(All, StringComparison.OrdinalIgnoreCase))
        {
            top = featureCount;
            return true;
        }

        // Not past a NUL, which .NET's parser reads past ("3\0" is 3).
        if (!value.Contains('\0', StringComparison.Ordinal) && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 && n <= featureCount)
        {
            top = n;
            return true;
        }

        error = $"explain '{text}' is not allowed: use a whole number from 1 to {featureCount} (the top features per record) or '{All}'.";
        return false;
    }
}
