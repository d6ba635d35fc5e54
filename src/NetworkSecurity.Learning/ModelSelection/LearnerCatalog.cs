using System.Globalization;
using NetworkSecurity.Learning.Learners;

namespace NetworkSecurity.Learning.ModelSelection;

/// <summary>The learner family by name, with scikit-learn-style parameter names.</summary>
public static class LearnerCatalog
{
    /// <summary>Engine name of the learners implemented in this library.</summary>
    public const string OwnEngine = "ours";

    /// <summary>
    /// The extension point for learners from other engines (e.g. ML.NET, wired in by the pipeline): the default
    /// catalog plus <paramref name="extra"/> factories. A name may not be taken twice.
    /// </summary>
    public static IReadOnlyDictionary<string, ILearnerFactory> With(this IReadOnlyDictionary<string, ILearnerFactory> catalog, IEnumerable<ILearnerFactory> extra)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(extra);
        var merged = new Dictionary<string, ILearnerFactory>(catalog, StringComparer.Ordinal);
        foreach (var factory in extra)
        {
            if (!merged.TryAdd(factory.Name, factory))
            {
                throw new ArgumentException($"Learner '{factory.Name}' is already in the catalog.", nameof(extra));
            }
        }

        return merged;
    }

    /// <summary>
    /// Keeps only the learners named in <paramref name="names"/> (e.g. "fasttree,lightgbm"); names that are not in the
    /// catalog fail with the list of known ones. Empty or null keeps everything.
    /// </summary>
    public static IReadOnlyDictionary<string, ILearnerFactory> Only(this IReadOnlyDictionary<string, ILearnerFactory> catalog, IEnumerable<string>? names)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var wanted = names?.Select(n => n.Trim()).Where(n => n.Length > 0).ToArray() ?? [];
        if (wanted.Length == 0)
        {
            return catalog;
        }

        var unknown = wanted.Where(n => !catalog.ContainsKey(n)).ToArray();
        if (unknown.Length > 0)
        {
            throw new ArgumentException($"Unknown learner(s) {string.Join(", ", unknown)} (known: {string.Join(", ", catalog.Keys)}).", nameof(names));
        }

        return wanted.Distinct(StringComparer.Ordinal).ToDictionary(n => n, n => catalog[n], StringComparer.Ordinal);
    }

    /// <summary>
    /// A learner's guard-clause message for the person who wrote the grid: without .NET's "(Parameter 'learningRate')"
    /// suffix (the code's name, not the grid's), with the value that was refused.
    /// </summary>
    internal static string ForUsers(ArgumentException ex)
    {
        var message = ex.Message;
        if (ex.ParamName is { } name && message.IndexOf($" (Parameter '{name}')", StringComparison.Ordinal) is var at and >= 0)
        {
            message = message[..at];
        }

        return ex is ArgumentOutOfRangeException { ActualValue: { } value }
            ? $"{message.TrimEnd('.')} (got {Convert.ToString(value, CultureInfo.InvariantCulture)})."
            : message;
    }

    /// <summary>
    /// A factory that reads text hyperparameters with <see cref="LearnerParameters"/>: malformed values and unknown
    /// names fail with a <see cref="ParameterException"/> naming the learner and the parameter.
    /// </summary>
    public static ILearnerFactory CreateFactory(string name, string? stagedParameter, string engine, Func<LearnerParameters, ILearner> create) =>
        new Factory(name, stagedParameter, create, engine);

    public static IReadOnlyDictionary<string, ILearnerFactory> Default(int seed)
    {
        var catalog = Members(seed);
        // Boosted trees and a random forest averaged: hyperparameters of each member carry its prefix
        // (gbdt.max_leaves, forest.n_estimators); forest_weight is the forest's share of the mean (default 0.5).
        // exact_match > 0 blends in the labels of a row's exact copies in training (ExactMatchModel), with the
        // average weighing as much as that many rows; 0 (default) turns it off.
        catalog["gbdt_forest_average"] = new Factory("gbdt_forest_average", null, p =>
        {
            var average = new AveragingLearner(
                [catalog["gradient_boosting"].Create(p.Prefixed("gbdt.")), catalog["random_forest"].Create(p.Prefixed("forest."))],
                [1 - p.Double("forest_weight", 0.5), p.Double("forest_weight", 0.5)]);
            var strength = p.Double("exact_match", 0);
            return strength == 0 ? average : new ExactMatchLearner(average, strength);
        });
        return catalog;
    }

    private static Dictionary<string, ILearnerFactory> Members(int seed) => new(StringComparer.Ordinal)
    {
        ["gradient_boosting"] = new Factory("gradient_boosting", "n_estimators", p => new GradientBoostingLearner(
            nEstimators: p.Int("n_estimators", 100),
            learningRate: p.Double("learning_rate", 0.1),
            maxDepth: p.Int("max_depth", p.Has("max_leaves") ? 0 : 3),
            maxLeaves: p.Int("max_leaves", 0),
            minSamplesLeaf: p.Int("min_samples_leaf", 1),
            minChildWeight: p.Double("min_child_weight", 1e-3),
            l2: p.Double("l2", 0.0),
            subsample: p.Double("subsample", 1.0),
            validationFraction: p.Double("validation_fraction", 0.0),
            nIterNoChange: p.Int("n_iter_no_change", 0),
            seed: seed,
            colsampleByNode: p.Double("colsample_bynode", 1.0),
            colsampleByTree: p.Double("colsample_bytree", 1.0))),
        ["random_forest"] = new Factory("random_forest", "n_estimators", p => new RandomForestLearner(
            nEstimators: p.Int("n_estimators", 100),
            maxFeatures: p.Text("max_features", "sqrt"),
            maxDepth: p.Int("max_depth", 0),
            minSamplesLeaf: p.Int("min_samples_leaf", 1),
            criterion: p.Text("criterion", "gini"),
            bootstrap: p.Bool("bootstrap", true),
            seed: seed)),
        ["decision_tree"] = new Factory("decision_tree", null, p => new DecisionTreeLearner(
            criterion: p.Text("criterion", "gini"),
            maxDepth: p.Int("max_depth", 0),
            minSamplesSplit: p.Int("min_samples_split", 2),
            minSamplesLeaf: p.Int("min_samples_leaf", 1),
            maxFeatures: p.Text("max_features", "all"),
            seed: seed)),
        ["ada_boost"] = new Factory("ada_boost", "n_estimators", p => new AdaBoostLearner(
            nEstimators: p.Int("n_estimators", 50),
            learningRate: p.Double("learning_rate", 1.0),
            maxDepth: p.Int("max_depth", 1),
            seed: seed)),
        ["logistic_regression"] = new Factory("logistic_regression", null, p => new LogisticRegressionLearner(
            c: p.Double("c", 1.0),
            maxIterations: p.Int("max_iter", 100))),
    };

    private sealed class Factory(string name, string? staged, Func<LearnerParameters, ILearner> create, string engine = OwnEngine) : ILearnerFactory
    {
        public string Name => name;

        public string Engine => engine;

        public string? StagedParameter => staged;

        public ILearner Create(IReadOnlyDictionary<string, string> parameters)
        {
            var reader = new LearnerParameters(name, parameters);
            ILearner learner;
            try
            {
                learner = create(reader);
            }
            catch (ArgumentException ex) when (ex is not ParameterException)
            {
                throw new ParameterException($"{name}: {ForUsers(ex)}");
            }

            var unused = parameters.Keys.Except(reader.Read, StringComparer.Ordinal).ToArray();
            if (unused.Length > 0)
            {
                throw new ParameterException($"{name}: unknown hyperparameter(s) {string.Join(", ", unused)}.");
            }

            return learner;
        }
    }
}

/// <summary>Reads a learner's text hyperparameters, remembering which were read so unknown ones can be reported.</summary>
public sealed class LearnerParameters(string learner, IReadOnlyDictionary<string, string> values)
{
    public HashSet<string> Read { get; } = new(StringComparer.Ordinal);

    public bool Has(string key) => values.ContainsKey(key);

    public string Text(string key, string fallback)
    {
        Read.Add(key);
        return values.TryGetValue(key, out var v) ? v : fallback;
    }

    public int Int(string key, int fallback)
    {
        var text = Text(key, fallback.ToString(CultureInfo.InvariantCulture));
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new ParameterException($"{learner}: {key} = '{text}' is not an integer.");
    }

    public double Double(string key, double fallback)
    {
        var text = Text(key, fallback.ToString("R", CultureInfo.InvariantCulture));
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new ParameterException($"{learner}: {key} = '{text}' is not a number.");
    }

    /// <summary>The parameters that start with <paramref name="prefix"/>, without it (marked as read).</summary>
    public Dictionary<string, string> Prefixed(string prefix)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in values)
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                Read.Add(key);
                result[key[prefix.Length..]] = value;
            }
        }

        return result;
    }

    public bool Bool(string key, bool fallback)
    {
        var text = Text(key, fallback ? "true" : "false");
        return bool.TryParse(text, out var v) ? v : throw new ParameterException($"{learner}: {key} = '{text}' is not true or false.");
    }
}

/// <summary>A hyperparameter that is unknown, malformed or out of range; the message names the learner and parameter.</summary>
public sealed class ParameterException(string message) : ArgumentException(message);
