using System.Security.Cryptography;
using System.Text;

namespace NetworkSecurity.Pipeline.Schema;

/// <summary>The expected shape of a network-data record: feature columns and the target column.</summary>
public sealed record DataSchema(int Version, IReadOnlyList<FeatureColumn> Features, TargetColumn Target, IReadOnlyList<string> IndexColumns)
{
    public IReadOnlyList<string> FeatureNames { get; } = Features.Select(f => f.Name).ToArray();

    /// <summary>Where the schema was read from (its file), for messages; null when it was built in code.</summary>
    public string? Source { get; init; }

    /// <summary>
    /// Identifies the feature layout a model was trained on. Two schemas with the same features in the same
    /// order and the same allowed values have the same fingerprint, whatever their aliases.
    /// </summary>
    public string Fingerprint { get; } = ComputeFingerprint(Features);

    private static string ComputeFingerprint(IReadOnlyList<FeatureColumn> features)
    {
        var text = string.Join(';', features.Select(f => $"{f.Name}:{string.Join(',', f.AllowedValues)}"));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
    }
}

public sealed record FeatureColumn(string Name, IReadOnlyList<int> AllowedValues, IReadOnlyList<string> Aliases)
{
    /// <summary>The schema's <c>type: int</c> (the default): without an allowed list, only whole numbers; <c>float</c> takes any finite number.</summary>
    public bool WholeNumbers { get; init; } = true;

    /// <summary>What the feature allows, for messages: its values, or any (whole) number.</summary>
    // "any number" refused Infinity (and a JSON 1e400) in the same sentence: float takes finite numbers only.
    public string AllowedText => AllowedValues.Count > 0 ? string.Join(", ", AllowedValues) : WholeNumbers ? "any whole number" : "any finite number";

    public bool Allows(double value)
    {
        // A loop, not LINQ: called for every cell of an upload.
        for (var i = 0; i < AllowedValues.Count; i++)
        {
            if (AllowedValues[i] == value)
            {
                return true;
            }
        }

        // type: int was not checked: 2.5 (and "Infinity" in JSON) went into a model whose schema said int.
        return AllowedValues.Count == 0 && (WholeNumbers ? double.IsInteger(value) : double.IsFinite(value));
    }
}

public sealed record TargetColumn(string Name, IReadOnlyList<string> Aliases, IReadOnlyList<TargetClass> Classes)
{
    /// <summary>The class value that is learned as label 0 (the first class, phishing).</summary>
    public int NegativeValue => Classes[0].Value;

    /// <summary>The class value that is learned as label 1 (the second class, legitimate).</summary>
    public int PositiveValue => Classes[1].Value;

    public string NameOf(int label) => Classes[label].Name;

    /// <summary>
    /// The schema file lists the legitimate class first (named so, or phishing listed second). Builds before 2026-12-07
    /// took the first class listed as phishing, so their models of such a schema have the labels the other way round.
    /// </summary>
    public bool ListedLegitimateFirst { get; init; }
}

public sealed record TargetClass(int Value, string Name);
