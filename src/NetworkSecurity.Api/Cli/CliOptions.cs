using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using NetworkSecurity.Pipeline.Configuration;

namespace NetworkSecurity.Api.Cli;

/// <summary>
/// The typed options of the commands. Each one sets a configuration key, so an option, an environment variable
/// (<c>Pipeline__Seed</c>) and appsettings.json are three ways to say the same thing; defaults live in appsettings.json.
/// A value that does not parse is a one-line usage error naming the option and what it accepts.
/// </summary>
public sealed class CliOptions
{
    private readonly List<(Option Option, string Key)> _bindings = [];

    // What each option with a checked value accepts: null for a value it takes, else why not (as its parse error says).
    private readonly Dictionary<Option, Func<string, string?>> _checks = [];

    public CliOptions(IReadOnlyList<string> configurationKeys)
    {
        ConfigurationKeys = configurationKeys;
        Data = Bind(PathText("--data", "csv", "Training data CSV (default Network_Data/phisingData.csv)."), "Pipeline:DataPath");
        Source = Bind(Choice("--source", "Where training data comes from: a CSV file or the MongoDB collection (MONGODB_URL).", "csv", "mongodb"), "Pipeline:DataSource");
        Schema = Bind(PathText("--schema", "yaml", "Data schema (default data_schema/schema.yaml, beside the program when not in the working folder)."), "Pipeline:SchemaPath");
        Split = Bind(Choice("--split", "How the test rows are chosen: stratified by label, or grouped so identical feature vectors stay on one side (duplicate-aware).", "stratified", "grouped"), "Pipeline:Split");
        TestFraction = Bind(Number("--test-fraction", "Share of rows held out for the test (default 0.2). With train, 0 trains on every row and gates on the cross-validated estimate; evaluate needs a test split (above 0).", 0, 0.5), "Pipeline:TestFraction");
        Seed = Bind(Integer("--seed", "Random seed of the split, the folds and the learners, 0 or more (default 42).", 0, int.MaxValue), "Pipeline:Seed");
        Mode = Bind(Choice("--mode", "search: cross-validated search over every learner in the grid; gbdt: one gradient-boosted model, fast.", "search", "gbdt"), "Pipeline:Training:Mode");
        Grid = Bind(PathText("--grid", "yaml", "Search grids (default data_schema/model_grid.yaml)."), "Pipeline:Training:GridPath");
        Folds = Bind(Integer("--folds", "Cross-validation folds (default 5).", 2, 20), "Pipeline:Training:CrossValidationFolds");
        DropMargin = Bind(Number("--drop-margin", "Configurations this far behind the best after two folds are not scored on the other folds (default 0.003 for roc_auc, 0.01 for f1 and accuracy); 0 scores every configuration on every fold.", 0, 1), "Pipeline:Training:DropMargin");
        Scoring = Bind(Choice("--scoring", "Score that ranks the search's configurations (default roc_auc: steadier than F1 between near-equal models; each entry's CV F1 is reported too).", "roc_auc", "f1", "accuracy"), "Pipeline:Training:Scoring");
        Artifacts = Bind(PathText("--artifacts", "dir", "Folder for each run's timestamped artifacts (default Artifacts)."), "Pipeline:ArtifactsRoot");
        FinalModel = Bind(PathText("--final-model", "dir", "Folder of the promoted, live model (default final_model)."), "Pipeline:FinalModelDirectory");
        Logs = Bind(PathText("--logs", "dir", "Folder for the command's log file, or 'none' (default Logs)."), "Logging:Directory");
        Seeds = Bind(SeedList("--seeds", "Seeds to evaluate: a range like 0-4 or a list like 1,3,7 (default 0-4)."), "Evaluate:Seeds");
        WriteSplits = Bind(PathText("--write-splits", "dir", "Write each seed's exact train/test rows and the product's test probabilities under this folder (for scripts/bench/accuracy.sh)."), "Evaluate:WriteSplits");
        // Required, but also read from Predict:Input / Predict:Output (a settings file, Predict__Input): checked by the command.
        Input = Bind(PathText("--input", "csv", "CSV of site records to score (header row; the schema's feature columns, by name or alias in any order; extra columns are echoed). Required (or Predict:Input)."), "Predict:Input");
        Output = Bind(PathText("--output", "csv", "Where to write the records with predicted_column, phishing_probability and verdict. Required (or Predict:Output)."), "Predict:Output");
        File = Bind(PathText("--file", "csv", "CSV to load (default: the training data file)."), "PushData:File");
        Drop = Bind(new Option<bool>("--drop") { Description = "Replace the collection's documents once the whole file is stored (a failed or stopped load leaves them as they were), so re-running gives the same collection." }, "PushData:Drop");
        _checks[Drop] = text => Setting.TryParseSwitch(text, out _) ? null : $"is not {Setting.SwitchWords}.";
        Explain = Bind(Text("--explain", "N|all", "Add per record the top N features behind the verdict (TreeSHAP / linear contributions), or all of the schema's features: explanation columns in the output."), "Predict:Explain");
        Learners = Bind(Text("--learners", "names", "Search only these learners (every entry of each) or grid entries, comma-separated (e.g. fasttree,lightgbm for ML.NET's, gradient_boosting_leafwise for that entry alone; default: every entry)."), "Pipeline:Training:Learners");
        Format = Bind(Choice("--format", "Model format to write (default onnx).", "onnx"), "Export:Format");
        ExportOutput = Bind(PathText("--output", "file", "Where to write the exported model (default model.onnx)."), "Export:Output");
        BatchSize = Bind(Integer("--batch-size", "Documents per unordered InsertMany batch (default 1000, MONGODB_BATCH_SIZE).", 1, 100_000), "MONGODB_BATCH_SIZE");
    }

    /// <summary>Configuration keys given as options (<c>--Section:Key=value</c>), for the configuration's command-line source.</summary>
    public IReadOnlyList<string> ConfigurationKeys { get; }

    public Option<string> Data { get; }
    public Option<string> Source { get; }
    public Option<string> Schema { get; }
    public Option<string> Split { get; }
    public Option<double> TestFraction { get; }
    public Option<int> Seed { get; }
    public Option<string> Mode { get; }
    public Option<string> Grid { get; }
    public Option<int> Folds { get; }
    public Option<double> DropMargin { get; }
    public Option<string> Scoring { get; }
    public Option<string> Artifacts { get; }
    public Option<string> FinalModel { get; }
    public Option<string> Logs { get; }
    public Option<int[]> Seeds { get; }
    public Option<string> WriteSplits { get; }
    public Option<string> Input { get; }
    public Option<string> Output { get; }
    public Option<string> File { get; }
    public Option<bool> Drop { get; }
    public Option<int> BatchSize { get; }
    public Option<string> Learners { get; }
    public Option<string> Explain { get; }
    public Option<string> Format { get; }
    public Option<string> ExportOutput { get; }

    /// <summary>The options of the training pipeline, shared by <c>train</c> and <c>evaluate</c>.</summary>
    public IEnumerable<Option> Pipeline => [Data, Source, Schema, Split, TestFraction, Seed, Mode, Grid, Folds, DropMargin, Scoring, Learners];

    /// <summary>The configuration keys set on the command line, with their values as typed.</summary>
    public IEnumerable<KeyValuePair<string, string?>> ConfigurationValues(ParseResult result)
    {
        foreach (var (option, key) in _bindings)
        {
            if (result.GetResult(option) is { Implicit: false } given)
            {
                // A text option's parsed value: a choice is matched in any case (--mode GBDT) and becomes the allowed
                // spelling, which is what the settings' checks accept; the token as typed was refused there as
                // "Training:Mode must be 'search' or 'gbdt'", after the option itself had been accepted.
                yield return new(key, given.Tokens.Count == 0 ? "true"
                    : option is Option<string> ? given.GetValueOrDefault<string>()
                    : string.Join(',', given.Tokens.Select(t => t.Value)));
            }
        }
    }

    /// <summary>
    /// Why a value given to a key of a command's own section (Export:Format, Predict:Output, PushData:Drop, Evaluate:Seeds) as
    /// an option, in a settings file or as a variable is refused, or null: its typed option's check, so that
    /// --Export:Format=pmml, which exported ONNX, or --Predict:Output=-, which wrote a file named '-', are the usage errors
    /// --format pmml and --output - are. An empty value is unset, as the commands read it. The Pipeline section's keys are
    /// checked as settings (PipelineOptions' validation).
    /// </summary>
    public string? CommandKeyProblem(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        foreach (var (option, key) in _bindings)
        {
            if (key.Split(':')[0] is "Evaluate" or "Predict" or "PushData" or "Export" && _checks.TryGetValue(option, out var check)
                && configuration[key] is { Length: > 0 } text && check(text) is { } problem)
            {
                return $"{key} '{text}' {problem}";
            }
        }

        return null;
    }

    /// <summary>Every key a typed option sets, with the option's name (Pipeline:Seed and --seed, Export:Format and --format).</summary>
    public IEnumerable<(string Key, string Option)> Keys => _bindings.Select(b => (b.Key, b.Option.Name));

    /// <summary>The typed option that sets <paramref name="key"/> (--seed for Pipeline:Seed), or null.</summary>
    public string? OptionFor(string key) =>
        _bindings.Where(b => b.Key.Equals(key, StringComparison.OrdinalIgnoreCase)).Select(b => b.Option.Name).FirstOrDefault();

    /// <summary>
    /// A typed option and the configuration key it sets, both given with different values (--seed 3 --Pipeline:Seed=5),
    /// or null: the typed one won without a word, where the same option given twice is an error.
    /// </summary>
    public string? Conflict(ParseResult result)
    {
        var keys = new ConfigurationBuilder().AddCommandLine(ConfigurationKeys.ToArray()).Build();
        var typed = ConfigurationValues(result).ToDictionary(v => v.Key, v => v.Value, StringComparer.OrdinalIgnoreCase);
        foreach (var (option, key) in _bindings)
        {
            if (typed.TryGetValue(key, out var value) && keys[key] is { } other && !string.Equals(other, value, StringComparison.Ordinal))
            {
                return $"{option.Name} '{value}' and --{key}={other} set the same setting to different values; give one of them.";
            }
        }

        return null;
    }

    private T Bind<T>(T option, string key)
        where T : Option
    {
        _bindings.Add((option, key));
        return option;
    }

    // Never an option's name: "--explain --output b.csv" took '--output' for explain's value and said only
    // "Unrecognized command or argument 'b.csv'", naming neither option.
    private Option<string> Text(string name, string valueName, string description) =>
        Parsed<string>(name, description, valueName,
            (string text, out string value) => !(value = text).StartsWith("--", StringComparison.Ordinal),
            $"is an option, not a value: give {name} its value first.");

    // A path: never empty (export --output "" wrote ./model.onnx) nor padded with spaces (a folder named "  fm  "), nor
    // '-', which scripts mean as standard input or output: predict --output - wrote a file named '-' and exited 0.
    private Option<string> PathText(string name, string valueName, string description) =>
        Parsed<string>(name, description, valueName,
            (string text, out string value) => (value = text).Trim().Length == text.Length && text.Length > 0 && text != "-" && !text.StartsWith("--", StringComparison.Ordinal),
            text => text == "-"
                ? "is not a path: the commands read and write files, not standard input or output; give a file name (./- for a file named '-')."
                : text.StartsWith("--", StringComparison.Ordinal)
                ? $"is an option, not a value: give {name} its value first (a path that starts with -- as ./{text})."
                : "is not a path: empty, or with spaces around it.");

    private Option<string> Choice(string name, string description, params string[] allowed) =>
        Parsed<string>(name, description, string.Join('|', allowed),
            (string text, out string value) => (value = allowed.FirstOrDefault(a => string.Equals(a, text, StringComparison.OrdinalIgnoreCase))!) is not null,
            $"is not allowed; use one of {string.Join(", ", allowed)}.");

    private Option<int> Integer(string name, string description, int min, int max) =>
        Parsed<int>(name, description, "n",
            (string text, out int value) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value) && value >= min && value <= max,
            min == int.MinValue ? "is not a whole number." : $"is not a whole number from {min} to {max}.");

    private Option<double> Number(string name, string description, double min, double max) =>
        Parsed<double>(name, description, "x",
            (string text, out double value) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && value >= min && value <= max,
            string.Create(CultureInfo.InvariantCulture, $"is not a number from {min} to {max}."));

    // One value, a range or a list: an array option takes every value it is given, so evaluate --seeds 0 --seeds 1 ran
    // the list '0,1' that nobody wrote (and --seeds 0-4 --seeds 5 was refused as '0-4,5'), where --seed 1 --seed 2 is refused.
    private Option<int[]> SeedList(string name, string description)
    {
        var option = Parsed<int[]>(name, description, "seeds", SeedRange.TryParse, SeedRange.Expected);
        option.Arity = ArgumentArity.ExactlyOne;
        return option;
    }

    private delegate bool TryParseValue<T>(string text, out T value);

    private Option<T> Parsed<T>(string name, string description, string valueName, TryParseValue<T> tryParse, string problem) =>
        Parsed(name, description, valueName, tryParse, _ => problem);

    /// <summary>An option whose value is parsed by <paramref name="tryParse"/>; a bad value is one error naming the option.</summary>
    private Option<T> Parsed<T>(string name, string description, string valueName, TryParseValue<T> tryParse, Func<string, string> problem)
    {
        var option = Create(name, description, valueName, tryParse, problem);
        _checks[option] = text => tryParse(text, out _) ? null : problem(text);
        return option;
    }

    private static Option<T> Create<T>(string name, string description, string valueName, TryParseValue<T> tryParse, Func<string, string> problem) => new(name)
    {
        Description = description,
        HelpName = valueName,
        CustomParser = result =>
        {
            var text = Single(result);
            if (tryParse(text, out var value))
            {
                return value;
            }

            result.AddError($"{name}: '{text}' {problem(text)}");
            return default;
        },
    };

    private static string Single(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
}
