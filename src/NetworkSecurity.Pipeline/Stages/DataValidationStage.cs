using System.Diagnostics;
using CsvHelper;
using Microsoft.Extensions.Logging;
using NetworkSecurity.Learning.Statistics;
using NetworkSecurity.Pipeline.Artifacts;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.Data;
using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.Pipeline.Stages;

/// <summary>
/// Stage 2: sets invalid records aside with their reasons, reports missing values, duplicates and label balance,
/// and tests every column for drift between train and test (two-sample Kolmogorov-Smirnov).
/// Fails the run when nothing valid is left or too many records are invalid.
/// </summary>
/// <param name="source">The data source (file or collection), named in a refusal of its data as evaluate names it.</param>
public sealed class DataValidationStage(DataSchema schema, PipelineOptions options, ILogger logger, string? source = null)
{
    public ValidationResult Run(ArtifactLayout layout, IngestionResult ingestion)
    {
        var clock = Stopwatch.StartNew();
        logger.LogInformation("Validation started");
        var validRows = ingestion.Train.Count + ingestion.Test.Count;
        if (ingestion.Invalid.Count > 0)
        {
            WriteInvalid(Path.Combine(layout.Invalid, "invalid_records.csv"), ingestion.Invalid);
        }

        var invalidFraction = ingestion.TotalRecords == 0 ? 1.0 : (double)ingestion.Invalid.Count / ingestion.TotalRecords;
        var drift = validRows > 0 && ingestion.Test.Count > 0 ? ComputeDrift(ingestion) : [];
        var driftDetected = drift.Any(d => d.Drift);
        ReportWriter.WriteYaml(Path.Combine(layout.DriftReport, "report.yaml"), new
        {
            test = "two-sample Kolmogorov-Smirnov (train vs test), two-sided",
            threshold = options.DriftThreshold,
            drift_detected = driftDetected,
            // A column with no value on one side was written drift_status: false (its p-value NaN is not below the
            // threshold), a claim about data the test never saw: it is null there, with the reason.
            columns = drift.ToDictionary(d => d.Column, d => d.Untested is null
                ? (object)new { statistic = d.Statistic, p_value = d.PValue, method = d.Method, drift_status = d.Drift }
                : new { statistic = d.Statistic, p_value = d.PValue, method = d.Method, drift_status = (bool?)null, reason = d.Untested }),
        });

        var missing = new Dictionary<string, int>();
        for (var f = 0; f < schema.Features.Count; f++)
        {
            missing[schema.Features[f].Name] = ingestion.Train.MissingCount(f) + ingestion.Test.MissingCount(f);
        }

        // A feature with no value in any training row can be neither learned nor imputed (the imputer had no donor
        // and filled in 0, a value the column never held): the data is broken, whatever each row's own share.
        var empty = DataChecks.EmptyFeatures(schema, ingestion.Train, "training rows");
        if (empty is not null && source is not null)
        {
            empty = $"{source}: {empty}";
        }

        var problems = ingestion.Invalid.SelectMany(i => i.Problems).ToArray();
        var tooManyInvalid = invalidFraction > options.MaxInvalidRowFraction;
        var passed = validRows > 0 && !tooManyInvalid && empty is null;
        var message = validRows == 0
            ? "No valid record is left after validation."
            : tooManyInvalid
                ? $"{ingestion.Invalid.Count} of {ingestion.TotalRecords} records are invalid ({DataChecks.Percent(invalidFraction)}; at most {DataChecks.Percent(options.MaxInvalidRowFraction)} allowed)."
                : empty ?? "Validation passed.";
        ReportWriter.WriteYaml(Path.Combine(layout.Validation, "report.yaml"), new
        {
            status = passed ? "passed" : "failed",
            message,
            records = ingestion.TotalRecords,
            valid_records = validRows,
            invalid_records = ingestion.Invalid.Count,
            columns = new
            {
                expected = schema.Features.Count,
                renamed = ingestion.Mapping.Renamed.ToDictionary(r => r.Source, r => r.Schema),
                ignored = ingestion.Mapping.Ignored,
            },
            missing_values = missing,
            duplicate_rows = ingestion.Duplicates.DuplicateRows,
            conflicting_feature_vectors = ingestion.Duplicates.ConflictingVectors,
            label_balance = new
            {
                train = Balance(ingestion.Train),
                test = Balance(ingestion.Test),
            },
            drift_detected = driftDetected,
            first_problems = problems.Take(20).Select(p => p.ToString()).ToArray(),
        });

        foreach (var column in drift.Where(d => d.Drift))
        {
            logger.LogWarning("Drift in column {Column}: KS statistic {Statistic:0.0000}, p-value {PValue:0.0000}", column.Column, column.Statistic, column.PValue);
        }

        logger.LogInformation("Validation finished in {Elapsed:0.000}s: {Valid} valid, {Invalid} invalid, {Missing} missing cells, drift in {Drifted} of {Columns} columns",
            clock.Elapsed.TotalSeconds, validRows, ingestion.Invalid.Count, missing.Values.Sum(), drift.Count(d => d.Drift), drift.Count);
        if (!passed)
        {
            var shown = problems.Take(10).Select(p => "  " + p).ToArray();
            var more = problems.Length > shown.Length ? $"{Environment.NewLine}  … and {problems.Length - shown.Length} more (see {Path.Combine(layout.Invalid, "invalid_records.csv")})" : "";
            throw new PipelineException(
                $"Validation failed: {message}{(shown.Length > 0 ? Environment.NewLine + string.Join(Environment.NewLine, shown) + more : "")}",
                problems);
        }

        if (DataChecks.EmptyTestFeatures(schema, ingestion.Test) is { } emptyInTest)
        {
            // The run goes on (the training rows learn and impute the column), but nothing said its test metrics scored
            // imputed values, and the drift report called the column not drifted.
            logger.LogWarning("{Warning} Its drift is not tested (data_validation/drift_report/report.yaml).", emptyInTest);
        }

        if (ingestion.Invalid.Count > 0)
        {
            // Said where a person at a terminal sees it (warnings): rows left out of training are worth knowing about.
            logger.LogWarning("{Invalid} of {Records} records set aside as invalid ({Share}; Pipeline:MaxInvalidRowFraction allows {Allowed}), listed in {File}; first: {First}",
                ingestion.Invalid.Count, ingestion.TotalRecords, DataChecks.Percent(invalidFraction), DataChecks.Percent(options.MaxInvalidRowFraction),
                Path.Combine(layout.Invalid, "invalid_records.csv"), problems.FirstOrDefault()?.ToString() ?? ingestion.Invalid[0].Location);
        }

        return new ValidationResult(validRows, ingestion.Invalid.Count, drift, driftDetected, missing);
    }

    private List<ColumnDrift> ComputeDrift(IngestionResult ingestion)
    {
        var results = new ColumnDrift[schema.Features.Count];
        Parallel.For(0, schema.Features.Count, f =>
        {
            var train = Column(ingestion.Train, f);
            var test = Column(ingestion.Test, f);
            if (train.Length == 0 || test.Length == 0)
            {
                var (side, rows) = train.Length == 0 ? ("training", ingestion.Train.Count) : ("test", ingestion.Test.Count);
                results[f] = new ColumnDrift(schema.Features[f].Name, double.NaN, double.NaN, "none", false, $"no value in any of the {rows} {side} rows to compare");
                return;
            }

            var ks = KolmogorovSmirnov.TwoSample(train, test);
            results[f] = new ColumnDrift(schema.Features[f].Name, ks.Statistic, ks.PValue, ks.Method.ToString().ToLowerInvariant(), ks.PValue < options.DriftThreshold);
        });
        return [.. results];
    }

    // Sized once: a list grown row by row and then copied left three times the column's size behind per feature, sixty
    // large arrays for the collector (a million rows added 700 MB resident during validation).
    private static double[] Column(NetworkDataset data, int feature)
    {
        var values = new double[data.Count - data.MissingCount(feature)];
        var count = 0;
        for (var r = 0; r < data.Count; r++)
        {
            var v = data.Features[r, feature];
            if (!double.IsNaN(v))
            {
                values[count++] = v;
            }
        }

        return values;
    }

    private Dictionary<string, int> Balance(NetworkDataset data) =>
        schema.Target.Classes.Select((c, label) => (c.Name, Count: data.CountOf(label))).ToDictionary(x => x.Name, x => x.Count);

    private static void WriteInvalid(string path, IReadOnlyList<InvalidRecord> invalid) =>
        SafeFile.WriteText(path, writer =>
        {
            using var csv = CsvWriter.Create(writer, new CsvWriterOptions { Injection = CsvInjection.Escape }, leaveOpen: true);
            csv.WriteRecord(["location", "reason", "values"]);
            foreach (var record in invalid)
            {
                csv.WriteRecord([
                    record.Location,
                    string.Join("; ", record.Problems.Select(p => p.Column is null ? p.Message : $"column {p.Column} ({p.Field}): {p.Message}")),
                    string.Join(",", record.Values.Select(v => v ?? "")),
                ]);
            }
        });
}

/// <param name="Untested">Why the column was not tested (no value on one side), or null when it was.</param>
public sealed record ColumnDrift(string Column, double Statistic, double PValue, string Method, bool Drift, string? Untested = null);

public sealed record ValidationResult(int ValidRows, int InvalidRows, IReadOnlyList<ColumnDrift> Drift, bool DriftDetected, IReadOnlyDictionary<string, int> MissingValues);
