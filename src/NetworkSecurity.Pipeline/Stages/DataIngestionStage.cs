using System.Diagnostics;
using System.Security.Cryptography;
using CsvHelper;
using Microsoft.Extensions.Logging;
using NetworkSecurity.Learning.ModelSelection;
using NetworkSecurity.Pipeline.Artifacts;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.Data;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.Pipeline.Stages;

/// <summary>
/// Stage 1: reads the source, keeps a copy in the feature store, parses records against the schema and splits the
/// valid ones into train and test (stratified by label, or grouped by feature vector so copies stay together).
/// </summary>
public sealed class DataIngestionStage(IDataSource source, DataSchema schema, PipelineOptions options, ILogger logger)
{
    public async Task<IngestionResult> RunAsync(ArtifactLayout layout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        logger.LogInformation("Ingestion started: reading {Source}", source.Description);
        var table = await source.ReadAsync(cancellationToken).ConfigureAwait(false);
        WriteFeatureStore(layout, table);

        var parsed = DatasetParser.Parse(table, schema, requireTarget: true, allowUnknownColumns: false, options.MaxMissingFeatureFraction);
        if (parsed.Mapping.Renamed.Count > 0)
        {
            // One line, not one per column (an upper-case header gave thirty).
            var renamed = parsed.Mapping.Renamed;
            logger.LogWarning("{Count} column(s) read under the schema's names (an alias in the schema, or another case): {Columns}{More}",
                renamed.Count, string.Join(", ", renamed.Take(12).Select(r => $"'{DatasetParser.Printable(r.Source)}' as {r.Schema}")),
                renamed.Count > 12 ? $" and {renamed.Count - 12} more" : "");
        }

        foreach (var ignored in parsed.Mapping.Ignored)
        {
            logger.LogInformation("Column '{Column}' ignored (row index)", ignored);
        }

        var valid = parsed.Valid;
        var duplicates = DuplicateAnalysis.Analyze(valid.Features, valid.Labels);
        logger.LogInformation(
            "Read {Records} records: {Valid} valid, {Invalid} invalid; {Duplicates} duplicate rows ({Distinct} distinct feature vectors, {Conflicting} with both labels)",
            table.Records.Count, valid.Count, parsed.Invalid.Count, duplicates.DuplicateRows, duplicates.DistinctVectors, duplicates.ConflictingVectors);

        NetworkDataset train;
        NetworkDataset test;
        if (valid.Count < 2 || options.HasNoHoldout)
        {
            train = valid;
            test = valid.Select([]);
        }
        else
        {
            var split = options.IsGroupedSplit
                ? TrainTestSplit.StratifiedGrouped(valid.Labels, duplicates.GroupIds, options.TestFraction, options.Seed)
                : TrainTestSplit.Stratified(valid.Labels, options.TestFraction, options.Seed);
            train = valid.Select(split.Train);
            test = valid.Select(split.Test);
        }

        DatasetCsvWriter.Write(Path.Combine(layout.Ingestion, "train.csv"), schema, train);
        DatasetCsvWriter.Write(Path.Combine(layout.Ingestion, "test.csv"), schema, test);
        var result = new IngestionResult(train, test, parsed.Invalid, parsed.Mapping, duplicates, table.Records.Count, HashOf(valid));
        ReportWriter.WriteYaml(Path.Combine(layout.Ingestion, "report.yaml"), new
        {
            source = source.Description,
            records = table.Records.Count,
            valid_records = valid.Count,
            invalid_records = parsed.Invalid.Count,
            split = options.HasNoHoldout ? "none: every row trains (cross-validated estimate)" : options.IsGroupedSplit ? "grouped by feature vector, stratified by label" : "stratified by label",
            test_fraction = options.TestFraction,
            seed = options.Seed,
            train_rows = train.Count,
            test_rows = test.Count,
            duplicate_rows = duplicates.DuplicateRows,
            distinct_feature_vectors = duplicates.DistinctVectors,
            conflicting_feature_vectors = duplicates.ConflictingVectors,
            conflicting_rows = duplicates.ConflictingRows,
            data_sha256 = result.DataHash,
        });
        logger.LogInformation("Ingestion finished in {Elapsed:0.000}s: train {Train} rows, test {Test} rows ({Split} split, seed {Seed})",
            clock.Elapsed.TotalSeconds, train.Count, test.Count, options.Split, options.Seed);
        return result;
    }

    private static void WriteFeatureStore(ArtifactLayout layout, RawTable table)
    {
        var name = Path.GetFileName(table.Source);
        var path = Path.Combine(layout.FeatureStore, name.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? name : "network_data.csv");
        SafeFile.WriteText(path, writer =>
        {
            // A copy of the input as read: a line of another width (an invalid record, set aside later) is copied too.
            using var csv = CsvWriter.Create(writer, new CsvWriterOptions { ValidateFieldCount = false }, leaveOpen: true);
            csv.WriteRecord([.. table.Columns]);
            foreach (var record in table.Records)
            {
                foreach (var value in record.Values)
                {
                    csv.WriteField(value ?? "");
                }

                csv.EndRecord();
            }
        });
    }

    // The rows as read (features as doubles, labels 0/1, in row order), not a file's bytes: the same data from the CSV or
    // MongoDB, or spelt with other label values, hashes the same; any change to a value, a label or the order does not.
    // Hashed in place, the same bytes as one buffer of both: a copy doubled the features' memory, and past 2 GiB
    // (8.9 million rows of 30 features) its int size overflowed, failing the run as "Invalid configuration".
    internal static string HashOf(NetworkDataset data)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.Features.Values.AsSpan()));
        hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.Labels.AsSpan()));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}

public sealed record IngestionResult(
    NetworkDataset Train,
    NetworkDataset Test,
    IReadOnlyList<InvalidRecord> Invalid,
    ColumnMapping Mapping,
    DuplicateAnalysis Duplicates,
    int TotalRecords,
    string DataHash);
