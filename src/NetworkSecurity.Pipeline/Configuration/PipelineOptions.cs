using System.ComponentModel.DataAnnotations;

namespace NetworkSecurity.Pipeline.Configuration;

/// <summary>Settings of a training run, bound from the "Pipeline" configuration section.</summary>
public sealed class PipelineOptions
{
    public const string SectionName = "Pipeline";

    /// <summary>Where the network data comes from: "csv" (default) or "mongodb".</summary>
    [Choice("csv", "mongodb", ErrorMessage = "DataSource must be 'csv' or 'mongodb'.")]
    public string DataSource { get; set => field = Setting.Lower(value); } = "csv";

    // Empty, blank or padded is said by TrainingOptionsValidator, once, with the option's name.
    public string DataPath { get; set; } = "Network_Data/phisingData.csv";

    // Empty, blank or padded is said by TrainingOptionsValidator, once, with the option's name.
    public string SchemaPath { get; set; } = "data_schema/schema.yaml";

    // Empty, blank or padded is said by TrainingOptionsValidator, once, with the option's name.
    public string ArtifactsRoot { get; set; } = "Artifacts";

    // Empty, blank or padded is said by TrainingOptionsValidator, once, with the option's name.
    public string FinalModelDirectory { get; set; } = "final_model";

    /// <summary>
    /// Share of rows held out for the test. 0 = no hold-out: the model is trained on every labelled row and the quality
    /// gate uses the cross-validated estimate instead of a test score (production retraining).
    /// </summary>
    [Range(0.0, 0.5)]
    public double TestFraction { get; set; } = 0.2;

    /// <summary>Seeds the split, the folds and the learners. 0 or more: a seeded generator takes a negative seed's absolute value.</summary>
    [Range(0, int.MaxValue)]
    public int Seed { get; set; } = 42;

    /// <summary>"stratified" (by label) or "grouped" (rows with identical features stay on one side).</summary>
    [Choice("stratified", "grouped", ErrorMessage = "Split must be 'stratified' or 'grouped'.")]
    public string Split { get; set => field = Setting.Lower(value); } = "stratified";

    [Range(1, 50)]
    public int ImputerNeighbors { get; set; } = 3;

    [Range(0.0, 1.0)]
    public double DriftThreshold { get; set; } = 0.05;

    /// <summary>Fraction of rows allowed to fail validation (they are set aside); above it the run fails.</summary>
    [Range(0.0, 1.0)]
    public double MaxInvalidRowFraction { get; set; }

    /// <summary>Share of a row's features that may be missing (imputed); a row with more is invalid, with that reason.</summary>
    [Range(0.0, 1.0)]
    public double MaxMissingFeatureFraction { get; set; } = Schema.RecordParser.DefaultMaxMissingFraction;

    /// <summary>
    /// The most records training (and evaluate) reads from its source, checked while reading: a larger data set is
    /// refused, naming the file or collection and the limit, before it is all in memory. 0 (the default): as many as fit
    /// in the memory this process may use (the machine's, or a container's limit) beside <see cref="TrainingBaseBytes"/>, at
    /// <see cref="BytesPerTrainingRow"/> each.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int MaxTrainingRows { get; set; }

    /// <summary>
    /// What the automatic <see cref="MaxTrainingRows"/> takes for each record: peak resident memory of `train` with the
    /// whole default grid (data_schema/model_grid.yaml) grew by 2.4 KB a row from 11,055 to 100,000 rows and by 3.0 KB
    /// from 100,000 to 300,000 (the bundled rows repeated; README, "Training memory"). The bench grid's 1.6 KB, used
    /// before, let a 256 MiB heap accept 131,072 rows, and training them ran out of memory.
    /// </summary>
    public const int BytesPerTrainingRow = 3072;

    /// <summary>
    /// What the automatic <see cref="MaxTrainingRows"/> sets aside before the first record: the process itself (runtime,
    /// ML.NET, the grid's learners) peaked at 340 MiB on 11,055 rows. With <see cref="BytesPerTrainingRow"/> it bounds
    /// every peak measured (340, 542 and 1,111 MiB on 11,055, 100,000 and 300,000 rows).
    /// </summary>
    public const long TrainingBaseBytes = 320L << 20;

    /// <summary>
    /// <see cref="MaxTrainingRows"/> as the sources apply it; <paramref name="availableBytes"/> (default: what the
    /// garbage collector may use: the machine's memory, 75 % of a container's limit, or DOTNET_GCHeapHardLimit) sizes the
    /// automatic limit: the records that fit beside <see cref="TrainingBaseBytes"/>, none when it does not fit at all.
    /// </summary>
    public DataSources.RecordLimit TrainingRecordLimit(long? availableBytes = null)
    {
        if (MaxTrainingRows > 0)
        {
            return new DataSources.RecordLimit(MaxTrainingRows, "the most Pipeline:MaxTrainingRows allows");
        }

        var available = availableBytes ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var rows = (int)Math.Clamp((available - TrainingBaseBytes) / BytesPerTrainingRow, 0, int.MaxValue);
        return new DataSources.RecordLimit(rows, string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"the most that fit in the {available / (1024 * 1024):N0} MiB this process may use, beside about {TrainingBaseBytes / (1024 * 1024):N0} MiB for training itself and at about {BytesPerTrainingRow:N0} bytes a record: the automatic limit, as Pipeline:MaxTrainingRows is 0"));
    }

    /// <summary>Run folders kept under the artifacts folder (this run's included); older ones are removed when a run
    /// starts. 0 keeps every run.</summary>
    [Range(0, int.MaxValue)]
    public int ArtifactRunsKept { get; set; } = 20;

    /// <summary>Promoted model versions kept in the final model folder (the live one included); older ones are pruned.</summary>
    [Range(1, 1000)]
    public int ModelVersionsKept { get; set; } = global::NetworkSecurity.Pipeline.Training.ModelStore.DefaultVersionsKept;

    /// <summary>Quality gate: minimum test F1 (legitimate = positive) for the model to be promoted.</summary>
    [Range(0.0, 1.0)]
    public double ExpectedScore { get; set; } = 0.6;

    /// <summary>Quality gate: fewest rows of each class in the rows the gate's score comes from (the test split, or
    /// without a hold-out the training rows scored out of fold). A score on a handful of one class's rows cannot tell
    /// whether the model finds that class.</summary>
    [Range(1, int.MaxValue)]
    public int MinRowsPerClassToJudge { get; set; } = 10;

    /// <summary>Quality gate: maximum |train F1 - test F1|.</summary>
    [Range(0.0, 1.0)]
    public double OverfittingThreshold { get; set; } = 0.05;

    [Required]
    public TrainingOptions Training { get; set; } = new();

    /// <summary>MLflow experiment the runs are recorded in (MLFLOW_EXPERIMENT_NAME, when set, wins).</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Pipeline:ExperimentName is empty: name the MLflow experiment (default NetworkSecurity).")]
    public string ExperimentName { get; set; } = "NetworkSecurity";

    /// <summary>True when every labelled row is used for training (TestFraction = 0).</summary>
    public bool HasNoHoldout => TestFraction <= 0;

    public bool IsGroupedSplit => string.Equals(Split, "grouped", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Points relative paths of the bundled files (data, schema, grid) that are not in the working folder at the copies
    /// beside the program, so the published app and the Docker image work from any folder.
    /// </summary>
    public PipelineOptions ResolveBundledFiles()
    {
        DataPath = BundledFile.Resolve(DataPath);
        SchemaPath = BundledFile.Resolve(SchemaPath);
        Training.GridPath = BundledFile.Resolve(Training.GridPath);
        return this;
    }
}

/// <summary>Finds a file shipped with the program: in the working folder first, else beside the program.</summary>
public static class BundledFile
{
    public static string Resolve(string path)
    {
        if (string.IsNullOrEmpty(path) || Path.IsPathRooted(path) || File.Exists(path))
        {
            return path;
        }

        var besideProgram = Path.Combine(AppContext.BaseDirectory, path);
        return File.Exists(besideProgram) ? besideProgram : path;
    }
}

public sealed class TrainingOptions
{
    /// <summary>"search" (cross-validated grid search over the learner family) or "gbdt" (one boosted model).</summary>
    [Choice("search", "gbdt", ErrorMessage = "Training:Mode must be 'search' or 'gbdt'.")]
    public string Mode { get; set => field = Setting.Lower(value); } = "search";

    /// <summary>The search grids (YAML).</summary>
    public string GridPath { get; set; } = "data_schema/model_grid.yaml";

    [Range(2, 20)]
    public int CrossValidationFolds { get; set; } = 5;

    /// <summary>
    /// Configurations further than this (in score) behind the best after two folds are not scored on the other folds;
    /// 0 scores every configuration on every fold. Only applies with 4 folds or more. Unset: about three standard
    /// errors of a two-fold mean of the ranking score on this data (0.003 for roc_auc, 0.01 for f1 and accuracy).
    /// </summary>
    [Range(0.0, 1.0)]
    public double? DropMargin { get; set; }

    /// <summary>
    /// The cross-validation score that ranks the search: roc_auc, f1 or accuracy. AUC by default: F1 at one threshold
    /// moves by a row or two between near-equal models, so ranking by it picks among them by chance (chosen on the
    /// tuning seeds 100–119, see data_schema/model_grid.yaml). Each entry's CV F1 is reported beside it.
    /// </summary>
    // Empty is refused too: a pattern let it through, and every run then failed blaming the grid file.
    [Choice("f1", "accuracy", "roc_auc", ErrorMessage = "Training:Scoring must be f1, accuracy or roc_auc.")]
    public string Scoring { get; set => field = Setting.Lower(value); } = "roc_auc";

    /// <summary>Learners the search may use, comma-separated (e.g. "fasttree,lightgbm"); empty = every grid entry.</summary>
    public string Learners { get; set; } = "";
}
