using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Imputation;
using NetworkSecurity.Learning.MLNet;
using NetworkSecurity.Learning.Models;
using NetworkSecurity.Learning.Serialization;
using NetworkSecurity.Pipeline.Artifacts;
using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.Pipeline.Training;

/// <summary>
/// Everything needed to score raw records: the feature schema it was trained on, the fitted imputer, the classifier
/// and its model card. Stored as one versioned file (model.nsm) so the model and its preprocessor never disagree.
/// An ML.NET classifier is stored as ML.NET's own model zip (model.zip) next to model.nsm, which then names the zip
/// and its SHA-256 in place of the classifier, so any ML.NET app can load the zip with <c>MLContext.Model.Load</c>,
/// followed by the node cover of its trees (for explanations; the zip has no place for it).
/// </summary>
public sealed class ModelBundle
{
    public const int FormatVersion = 1;
    public const string MLNetModelFileName = "model.zip";
    private const uint Magic = 0x424D534E; // "NSMB"
    private const uint MLNetMagic = 0x5A4D534E; // "NSMZ": the classifier is the ML.NET zip named next

    public ModelBundle(string schemaFingerprint, IReadOnlyList<string> featureNames, KnnImputer imputer, IClassifierModel classifier, ModelCard card)
    {
        ArgumentNullException.ThrowIfNull(featureNames);
        if (classifier.FeatureCount != featureNames.Count)
        {
            throw new ArgumentException($"The classifier expects {classifier.FeatureCount} features but the schema has {featureNames.Count}.", nameof(classifier));
        }

        SchemaFingerprint = schemaFingerprint;
        FeatureNames = featureNames;
        Imputer = imputer;
        Classifier = classifier;
        Card = card;
    }

    public string SchemaFingerprint { get; }

    public IReadOnlyList<string> FeatureNames { get; }

    public KnnImputer Imputer { get; }

    public IClassifierModel Classifier { get; }

    public ModelCard Card { get; }

    public string Version => Card.Version;

    /// <summary>Probability of label 1 (legitimate) for each row; missing values (NaN) are imputed first.</summary>
    public void PredictProbabilities(FeatureMatrix features, Span<double> destination) => PredictProbabilities(features, destination, CancellationToken.None);

    /// <inheritdoc cref="PredictProbabilities(FeatureMatrix, Span{double})"/>
    public void PredictProbabilities(FeatureMatrix features, Span<double> destination, CancellationToken cancellationToken)
    {
        Classifier.PredictProbabilities(Complete(features, cancellationToken), destination);
    }

    /// <summary>The rows as the classifier sees them: missing values (NaN) imputed; the same matrix when none are missing.</summary>
    public FeatureMatrix Complete(FeatureMatrix features, CancellationToken cancellationToken = default) =>
        FeatureMatrix.HasMissing(features.Values) ? Imputer.Transform(features, cancellationToken) : features;

    public void Save(string path)
    {
        string? zipHash = null;
        if (Classifier is MLNetModel mlNet)
        {
            using var zip = new MemoryStream();
            mlNet.Save(zip);
            var bytes = zip.ToArray();
            zipHash = Convert.ToHexStringLower(SHA256.HashData(bytes));
            SafeFile.WriteAllBytes(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, MLNetModelFileName), bytes);
        }

        SafeFile.Write(path, stream => WriteBundle(stream, zipHash));
    }

    private void WriteBundle(Stream stream, string? zipHash)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(SchemaFingerprint);
        writer.Write(FeatureNames.Count);
        foreach (var name in FeatureNames)
        {
            writer.Write(name);
        }

        writer.Write(JsonSerializer.Serialize(Card, ReportWriter.JsonOptions));
        Imputer.WriteTo(writer);
        if (zipHash is not null)
        {
            writer.Write(MLNetMagic);
            writer.Write(MLNetModelFileName);
            writer.Write(zipHash);
            ((MLNetModel)Classifier).WriteCover(writer); // what the zip lacks for explanations; older bundles end before it
        }
        else
        {
            ModelSerializer.Write(Classifier, writer);
        }
    }

    private static IClassifierModel ReadClassifier(BinaryReader reader, string path)
    {
        if (reader.ReadUInt32() != MLNetMagic)
        {
            reader.BaseStream.Seek(-sizeof(uint), SeekOrigin.Current);
            return ModelSerializer.Read(reader);
        }

        var zipPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, reader.ReadString());
        var expectedHash = reader.ReadString();
        if (!File.Exists(zipPath))
        {
            throw new PipelineException($"Model file '{path}' needs the ML.NET model '{zipPath}', which does not exist.");
        }

        var bytes = File.ReadAllBytes(zipPath);
        if (Convert.ToHexStringLower(SHA256.HashData(bytes)) != expectedHash)
        {
            throw new PipelineException($"ML.NET model '{zipPath}' does not match '{path}' (SHA-256 differs): the model folder is damaged or mixed.");
        }

        try
        {
            var model = MLNetModel.Load(new MemoryStream(bytes));
            return reader.BaseStream.Position < reader.BaseStream.Length ? model.WithCover(reader) : model;
        }
        catch (Exception ex) when (ex is not PipelineException and not OutOfMemoryException)
        {
            throw new PipelineException($"ML.NET model '{zipPath}' cannot be loaded: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Why the model's labels do not mean what the schema's classes mean (the fingerprint covers the features only), or
    /// null. Served anyway, every verdict and predicted label would be the other class's, without a word.
    /// </summary>
    private static string? ClassesProblem(ModelCard card, TargetColumn target)
    {
        static string Say(TargetClass c) => $"{c.Value} ({c.Name})";
        if (card.Classes is { Count: 2 } learned)
        {
            return learned[0].Value == target.NegativeValue && learned[1].Value == target.PositiveValue
                ? null
                : $"was trained with {Say(learned[0])} as phishing and {Say(learned[1])} as legitimate, but the schema makes {Say(target.Classes[0])} phishing and {Say(target.Classes[1])} legitimate: its verdicts and labels would be wrong";
        }

        // A card of an earlier build, which does not say. Builds before 2026-12-07 05:05 UTC learned the first class listed
        // as phishing, later ones the class named so: the same only when the schema lists phishing first.
        return target.ListedLegitimateFirst
            ? $"does not say which class it learned as phishing (its build did not record it), and builds before 2026-12-07 took the first class the schema lists, {Say(target.Classes[1])}, where this build takes {Say(target.Classes[0])}: its verdicts and labels may be inverted"
            : null;
    }

    /// <summary>
    /// Loads a bundle. Fails with a clear message when the file is not a bundle, has another format version, or
    /// (when <paramref name="expectedSchema"/> is given) was trained on another feature schema.
    /// </summary>
    public static ModelBundle Load(string path, DataSchema? expectedSchema)
    {
        if (!File.Exists(path))
        {
            throw new PipelineException($"Model file '{path}' does not exist.");
        }

        try
        {
            using var reader = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
            if (reader.ReadUInt32() != Magic)
            {
                throw new PipelineException($"'{path}' is not a NetworkSecurity model file.");
            }

            var version = reader.ReadInt32();
            if (version != FormatVersion)
            {
                throw new PipelineException($"Model file '{path}' has format version {version}; this build reads version {FormatVersion}. Retrain the model.");
            }

            var fingerprint = reader.ReadString();
            // Each name takes at least its length byte: a damaged count must not allocate gigabytes (OutOfMemoryException).
            var count = reader.ReadInt32();
            if (count < 0 || count > reader.BaseStream.Length - reader.BaseStream.Position)
            {
                throw new InvalidDataException($"the feature count {count} does not fit the file.");
            }

            var names = new string[count];
            for (var i = 0; i < names.Length; i++)
            {
                names[i] = reader.ReadString();
            }

            if (expectedSchema is not null && fingerprint != expectedSchema.Fingerprint)
            {
                throw new PipelineException(
                    $"Model file '{path}' was trained on another feature schema (fingerprint {fingerprint}, expected {expectedSchema.Fingerprint}{(expectedSchema.Source is { } source ? $", the fingerprint of '{source}'" : "")}). Retrain the model, or serve it with the schema it was trained on.");
            }

            var card = JsonSerializer.Deserialize<ModelCard>(reader.ReadString(), ReportWriter.JsonOptions)
                ?? throw new PipelineException($"Model file '{path}' has no model card.");
            if (expectedSchema is not null && ClassesProblem(card, expectedSchema.Target) is { } problem)
            {
                throw new PipelineException($"Model file '{path}' {problem}{(expectedSchema.Source is { } schemaFile ? $" (schema '{schemaFile}')" : "")}. Retrain the model.");
            }

            var imputer = KnnImputer.ReadFrom(reader);
            var classifier = ReadClassifier(reader, path);
            return new ModelBundle(fingerprint, names, imputer, classifier, card);
        }
        // FormatException and OverflowException: bytes that match their manifest but do not decode (a bad string length,
        // a negative count). Uncaught, they stopped the service at start ("invalid configuration") and were taken by the
        // model sync for a store outage, downloading the version again at every poll.
        catch (Exception ex) when (ex is EndOfStreamException or InvalidDataException or JsonException or IOException or FormatException or OverflowException)
        {
            throw new PipelineException($"Model file '{path}' is damaged or incomplete: {ex.Message}", ex);
        }
    }
}
