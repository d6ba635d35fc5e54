using NetworkSecurity.Learning.Models;

namespace NetworkSecurity.Learning.MLNet.Onnx;

/// <summary>
/// Writes one of our boosted-tree models as ONNX: a TreeEnsembleRegressor (ai.onnx.ml) summing the trees' leaf values
/// onto the base score, then a Sigmoid. Input "Features" (float, n × features); output "Probability" (float, n × 1),
/// the probability of label 1. Our trees send x left when x ≤ threshold or x is NaN: BRANCH_LEQ with missing values
/// tracking the true (left) branch.
/// The file says what its input must be (the model's doc_string, and the feature names in schema order as metadata
/// <c>feature_names</c>): a consumer holding only the file otherwise sends columns in another order, or raw rows with
/// NaN, which our service would have imputed first, and gets other verdicts with no error.
/// </summary>
public static class GradientBoostingOnnx
{
    public const string InputName = "Features";
    public const string OutputName = "Probability";

    /// <summary>
    /// The <c>metadata_props</c> key holding the input's feature names in column order: one CSV line, comma-separated,
    /// a name holding a comma, double quote or line break in double quotes (see <see cref="JoinNames"/>).
    /// </summary>
    public const string FeatureNamesKey = "feature_names";

    /// <summary>
    /// The names as one CSV line. Joined plainly, a schema name such as "len,gth" read as two names: 31 names for 30
    /// columns, and no way to tell which column is which.
    /// </summary>
    public static string JoinNames(IEnumerable<string> names) =>
        string.Join(',', names.Select(n => n.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{n.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : n));

    /// <summary>The input contract, as the model's doc_string.</summary>
    public static string Description(int featureCount) =>
        $"Input {InputName}: float[n, {featureCount}], the features in the order of metadata '{FeatureNamesKey}' (one CSV line), already imputed: " +
        "the KNN imputer that the service applies first is not in this graph, and a missing value (NaN) takes the trees' left branch, " +
        $"so a row with one can get another verdict than the service gives. Output {OutputName}: float[n, 1], P(legitimate), whatever value the data set gives that class.";

    public static void Write(GradientBoostingModel model, Stream stream, IReadOnlyList<string> featureNames)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(featureNames);
        if (featureNames.Count != model.FeatureCount)
        {
            throw new ArgumentException($"The model takes {model.FeatureCount} features but {featureNames.Count} names were given.", nameof(featureNames));
        }

        var ensemble = new ProtoWriter()
            .String(1, InputName).String(2, "raw_score").String(3, "trees").String(4, "TreeEnsembleRegressor").String(7, "ai.onnx.ml")
            .Message(5, Text("aggregate_function", "SUM"))
            .Message(5, Text("post_transform", "NONE"))
            .Message(5, Integer("n_targets", 1))
            .Message(5, Floats("base_values", [(float)model.BaseScore]));

        var treeIds = new List<long>();
        var nodeIds = new List<long>();
        var featureIds = new List<long>();
        var modes = new List<string>();
        var thresholds = new List<float>();
        var trueIds = new List<long>();
        var falseIds = new List<long>();
        var missingTrue = new List<long>();
        var targetTree = new List<long>();
        var targetNode = new List<long>();
        var targetWeights = new List<float>();
        for (var t = 0; t < model.Trees.Length; t++)
        {
            var nodes = model.Trees[t].Nodes;
            for (var n = 0; n < nodes.Length; n++)
            {
                var node = nodes[n];
                treeIds.Add(t);
                nodeIds.Add(n);
                if (node.IsLeaf)
                {
                    featureIds.Add(0);
                    modes.Add("LEAF");
                    thresholds.Add(0);
                    trueIds.Add(0);
                    falseIds.Add(0);
                    missingTrue.Add(0);
                    targetTree.Add(t);
                    targetNode.Add(n);
                    targetWeights.Add((float)node.Value);
                }
                else
                {
                    featureIds.Add(node.Feature);
                    modes.Add("BRANCH_LEQ");
                    thresholds.Add(ThresholdAsFloat(node.Threshold));
                    trueIds.Add(node.Child);
                    falseIds.Add(node.Child + 1);
                    missingTrue.Add(1);
                }
            }
        }

        ensemble
            .Message(5, Integers("nodes_treeids", treeIds))
            .Message(5, Integers("nodes_nodeids", nodeIds))
            .Message(5, Integers("nodes_featureids", featureIds))
            .Message(5, Strings("nodes_modes", modes))
            .Message(5, Floats("nodes_values", thresholds))
            .Message(5, Integers("nodes_truenodeids", trueIds))
            .Message(5, Integers("nodes_falsenodeids", falseIds))
            .Message(5, Integers("nodes_missing_value_tracks_true", missingTrue))
            .Message(5, Integers("target_treeids", targetTree))
            .Message(5, Integers("target_nodeids", targetNode))
            .Message(5, Integers("target_ids", targetTree.Select(_ => 0L).ToList()))
            .Message(5, Floats("target_weights", targetWeights));
        var sigmoid = new ProtoWriter().String(1, "raw_score").String(2, OutputName).String(3, "sigmoid").String(4, "Sigmoid");

        var graph = new ProtoWriter()
            .Message(1, ensemble)
            .Message(1, sigmoid)
            .String(2, "networksecurity_gbdt")
            .Message(11, Tensor(InputName, model.FeatureCount))
            .Message(12, Tensor(OutputName, 1));
        var file = new ProtoWriter()
            .Int(1, 8) // IR version 8
            .String(2, "NetworkSecurity")
            .Message(7, graph)
            .Message(8, new ProtoWriter().String(1, "").Int(2, 13))
            .Message(8, new ProtoWriter().String(1, "ai.onnx.ml").Int(2, 3))
            .String(6, Description(model.FeatureCount))
            .Message(14, new ProtoWriter().String(1, FeatureNamesKey).String(2, JoinNames(featureNames)));
        stream.Write(file.ToArray());
    }

    // ONNX compares in float: the largest float not above the double threshold keeps x ≤ t for every float x.
    private static float ThresholdAsFloat(double threshold)
    {
        var f = (float)threshold;
        return f > threshold ? MathF.BitDecrement(f) : f;
    }

    private static ProtoWriter Tensor(string name, int columns) => new ProtoWriter()
        .String(1, name)
        .Message(2, new ProtoWriter().Message(1, new ProtoWriter()
            .Int(1, 1) // FLOAT
            .Message(2, new ProtoWriter()
                .Message(1, new ProtoWriter().String(2, "N"))
                .Message(1, new ProtoWriter().Int(1, columns)))));

    private static ProtoWriter Text(string name, string value) => new ProtoWriter().String(1, name).Int(20, 3).String(4, value);

    private static ProtoWriter Integer(string name, long value) => new ProtoWriter().String(1, name).Int(20, 2).Int(3, value);

    private static ProtoWriter Floats(string name, IReadOnlyList<float> values)
    {
        var attribute = new ProtoWriter().String(1, name).Int(20, 6);
        foreach (var v in values)
        {
            attribute.Float(7, v);
        }

        return attribute;
    }

    private static ProtoWriter Integers(string name, IReadOnlyList<long> values)
    {
        var attribute = new ProtoWriter().String(1, name).Int(20, 7);
        foreach (var v in values)
        {
            attribute.Int(8, v);
        }

        return attribute;
    }

    private static ProtoWriter Strings(string name, IReadOnlyList<string> values)
    {
        var attribute = new ProtoWriter().String(1, name).Int(20, 8);
        foreach (var v in values)
        {
            attribute.String(9, v);
        }

        return attribute;
    }
}
