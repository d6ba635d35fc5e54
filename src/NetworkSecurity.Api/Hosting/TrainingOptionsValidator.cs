using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using NetworkSecurity.Pipeline.Artifacts;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// Checks the attributes of Pipeline:Training (mode, folds, drop margin, scoring) at start: the data-annotation check of
/// PipelineOptions stops at its own properties and does not look inside the nested section. Also checks that every
/// name in Training:Learners (--learners) is a learner the search knows, so a typo is a usage error before any work
/// instead of a failed training run, that --learners, --scoring and --drop-margin are not given with gbdt mode (which
/// would ignore them), that the schema file and a
/// search's grid file can be read, and that the artifacts and the final model have folders of their own.
/// </summary>
public sealed class TrainingOptionsValidator : IValidateOptions<PipelineOptions>
{
    public ValidateOptionsResult Validate(string? name, PipelineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Training is null)
        {
            return ValidateOptionsResult.Fail("Pipeline:Training is required.");
        }

        var results = new List<ValidationResult>();
        var failures = Validator.TryValidateObject(options.Training, new ValidationContext(options.Training), results, validateAllProperties: true)
            ? []
            : results.Select(r => Setting.Said($"Pipeline:Training:{string.Join(",", r.MemberNames)}", r.ErrorMessage ?? "")).ToList();

        // A path empty, blank or with spaces around it, said once: ' ' was "The ArtifactsRoot field is required." and
        // "has spaces around it", and a padded schema path "does not exist" too.
        (string Setting, string? Path)[] folders =
        [
            ("Pipeline:ArtifactsRoot (--artifacts)", options.ArtifactsRoot), ("Pipeline:FinalModelDirectory (--final-model)", options.FinalModelDirectory),
        ];
        var badPaths = new HashSet<string?>(StringComparer.Ordinal);
        foreach (var (setting, path) in folders.Concat([("Pipeline:DataPath (--data)", options.DataPath), ("Pipeline:SchemaPath (--schema)", options.SchemaPath), ("Pipeline:Training:GridPath (--grid)", options.Training.GridPath)]))
        {
            // "  fm  " made a folder of that name, where nothing serves from: almost always a quoting slip.
            var problem = string.IsNullOrEmpty(path) ? "is empty: give a path, or leave the setting out."
                : path.Trim().Length == 0 ? $"'{path}' is blank: give a path, or leave the setting out."
                : path.Trim().Length != path.Length ? $"'{path}' has spaces around it: give the path without them."
                : null;
            if (problem is not null)
            {
                failures.Add($"{setting} {problem}");
                badPaths.Add(setting);
            }
        }

        try
        {
            // Said as a setting at start, like the grid below: the service stopped later with "the service stopped:
            // PipelineException: Schema file 'nope.yaml' does not exist." and exit 1, naming no setting.
            if (!badPaths.Contains("Pipeline:SchemaPath (--schema)"))
            {
                Pipeline.Schema.SchemaLoader.Load(options.SchemaPath);
            }
        }
        catch (Pipeline.PipelineException ex)
        {
            failures.Add($"Pipeline:SchemaPath (--schema): {ex.Message}");
        }

        var known = GridSearchTrainer.Catalog(0).Keys;
        var (entries, gridProblem) = GridEntryNames(options.Training.GridPath);
        if (gridProblem is not null && options.Training.Mode == "search" && !badPaths.Contains("Pipeline:Training:GridPath (--grid)"))
        {
            // Said before any work: a search cannot run without its grid (gbdt mode does not read it).
            failures.Add($"Pipeline:Training:GridPath (--grid): {gridProblem}");
        }

        var unknown = (options.Training.Learners ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(name => !known.Contains(name) && !entries.Contains(name)).ToArray();
        if (unknown.Length > 0)
        {
            failures.Add($"Pipeline:Training:Learners (--learners): unknown learner(s) or grid entries {string.Join(", ", unknown)}; learners: {string.Join(", ", known)}{(entries.Count > 0 ? $"; entries of the grid: {string.Join(", ", entries)}" : "")}.");
        }

        // gbdt mode trains our boosted trees alone: a learner asked for would be dropped without a word, and the model
        // promoted would not be the one asked for; a search's ranking or race settings would be ignored alike. (The
        // grid path is not checked: it always has a value, and gbdt mode does not read it.)
        if (options.Training.Mode == "gbdt")
        {
            (string Setting, string? Given)[] searchOnly =
            [
                ("Pipeline:Training:Learners (--learners)", string.IsNullOrWhiteSpace(options.Training.Learners?.Replace(",", "", StringComparison.Ordinal)) ? null : options.Training.Learners),
                ("Pipeline:Training:Scoring (--scoring)", options.Training.Scoring is "roc_auc" or null or "" ? null : options.Training.Scoring),
                ("Pipeline:Training:DropMargin (--drop-margin)", options.Training.DropMargin?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ];
            foreach (var (setting, given) in searchOnly.Where(s => s.Given is not null))
            {
                failures.Add($"{setting} '{given}' sets how a search runs, but Pipeline:Training:Mode (--mode) is gbdt, which trains one boosted model and searches nothing: drop it, or use --mode search.");
            }
        }

        foreach (var (setting, folder) in folders)
        {
            // Said at start, not after a whole training run that then cannot write its results.
            if (string.IsNullOrWhiteSpace(folder) || badPaths.Contains(setting) || Directory.Exists(folder))
            {
                continue;
            }

            if (new FileInfo(folder).LinkTarget is { } target)
            {
                failures.Add($"{setting} '{folder}' is a symbolic link to '{target}', which is not a folder (make the folder, or point the link at one).");
            }
            else if (File.Exists(folder))
            {
                failures.Add($"{setting} '{folder}' is a file, not a folder.");
            }
        }

        // A device or pipe as the training data is a setting that cannot work (it was read without end); a file that is
        // not there yet may still come (a mounted volume), so that stays a run's failure.
        if (options.DataSource == "csv" && !string.IsNullOrWhiteSpace(options.DataPath) && (Directory.Exists(options.DataPath)
            || (File.Exists(options.DataPath) && !Pipeline.Artifacts.FileKind.IsRegularFile(options.DataPath))))
        {
            failures.Add($"Pipeline:DataPath (--data) '{options.DataPath}' is {(Directory.Exists(options.DataPath) ? "a folder" : "not a regular file (a device, pipe or socket)")}; give the CSV file.");
        }

        // Promotion replaces folders under the final model folder and prunes old versions: with the artifacts there too
        // (or one folder inside the other, also through a symbolic link), a run's artifacts could be replaced or pruned away.
        if (Overlap(options.ArtifactsRoot, options.FinalModelDirectory))
        {
            failures.Add($"Pipeline:ArtifactsRoot (--artifacts) '{options.ArtifactsRoot}' and Pipeline:FinalModelDirectory (--final-model) '{options.FinalModelDirectory}' must be separate folders, neither inside the other.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // The grid's entry names, which --learners takes too, or why the search cannot use the grid: a value a learner
    // refuses (learning_rate: [5]) is said here too, not as a run that failed after reading and splitting the data.
    private static (IReadOnlyCollection<string> Entries, string? Problem) GridEntryNames(string? gridPath)
    {
        if (string.IsNullOrWhiteSpace(gridPath))
        {
            return ([], "no grid file is set.");
        }

        string[] names;
        try
        {
            names = [.. GridFile.Load(gridPath).Select(c => c.Name)];
        }
        catch (Pipeline.PipelineException ex)
        {
            return ([], ex.Message);
        }

        try
        {
            _ = GridSearchTrainer.LoadChecked(gridPath);
            return (names, null);
        }
        catch (Exception ex) when (ex is Pipeline.PipelineException or Pipeline.SettingException)
        {
            return (names, ex.Message);
        }
    }

    private static bool Overlap(string? first, string? second) =>
        !string.IsNullOrWhiteSpace(first) && !string.IsNullOrWhiteSpace(second)
        && (SafeFile.LeadsInto(first, second) || SafeFile.LeadsInto(second, first));
}
