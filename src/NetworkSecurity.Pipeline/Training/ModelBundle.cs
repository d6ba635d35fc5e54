using System.Text;
using System.Text.Json;
using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Imputation;
using NetworkSecurity.Learning.Models;
using NetworkSecurity.Learning.Serialization;
using NetworkSecurity.Pipeline.Artifacts;
using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.Pipeline.Training;

/// <summary>
/// Everything needed to score raw records: the feature schema it was trained on, the fitted imputer, the classifier
/// and its model card. Stored as one versioned file (model.nsm) so the model and its preprocessor never disagree.
/// </summary>
public sealed class ModelBundle
{
    public const int FormatVersion = 1;
    private const uint Magic = 0x424D534E; // "NSMB"

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
    public void PredictProbabilities(FeatureMatrix features, Span<double> destination)
    {
        Classifier.PredictProbabilities(Complete(features), destination);
    }

    /// <summary>The rows as the classifier sees them: missing values (NaN) imputed; the same matrix when none are missing.</summary>
    public FeatureMatrix Complete(FeatureMatrix features) => HasMissing(features) ? Imputer.Transform(features) : features;

    private static bool HasMissing(FeatureMatrix features)
    {
        foreach (var v in features.Values)
        {
            if (double.IsNaN(v))
            {
                return true;
            }
        }

        return false;
    }

    public void Save(string path) => SafeFile.Write(path, stream =>
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
        ModelSerializer.Write(Classifier, writer);
    });

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
            var names = new string[reader.ReadInt32()];
            for (var i = 0; i < names.Length; i++)
            {
                names[i] = reader.ReadString();
            }

            if (expectedSchema is not null && fingerprint != expectedSchema.Fingerprint)
            {
                throw new PipelineException(
                    $"Model file '{path}' was trained on another feature schema (fingerprint {fingerprint}, expected {expectedSchema.Fingerprint}). Retrain the model.");
            }

            var card = JsonSerializer.Deserialize<ModelCard>(reader.ReadString(), ReportWriter.JsonOptions)
                ?? throw new PipelineException($"Model file '{path}' has no model card.");
            var imputer = KnnImputer.ReadFrom(reader);
            var classifier = ModelSerializer.Read(reader);
            return new ModelBundle(fingerprint, names, imputer, classifier, card);
        }
        catch (Exception ex) when (ex is EndOfStreamException or InvalidDataException or JsonException or IOException)
        {
            throw new PipelineException($"Model file '{path}' is damaged or incomplete: {ex.Message}", ex);
        }
    }
}
