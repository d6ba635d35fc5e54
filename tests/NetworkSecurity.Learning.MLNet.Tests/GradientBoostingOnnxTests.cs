using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NetworkSecurity.Learning.Learners;
using NetworkSecurity.Learning.MLNet.Onnx;
using NetworkSecurity.Learning.Models;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Learning.MLNet.Tests;

public sealed class GradientBoostingOnnxTests
{
    // The data file's columns, as PhishingData reads them (Result last).
    private static readonly IReadOnlyList<string> FeatureNames = File.ReadLines(TestPaths.DataFile).First().Split(',')[..^1];

    [Theory]
    [InlineData(0, 32)]
    [InlineData(4, 0)]
    public void Our_boosted_trees_exported_as_onnx_score_like_ours_in_OnnxRuntime(int maxDepth, int maxLeaves)
    {
        var (trainX, trainY) = PhishingData.Sample(2);
        var model = (GradientBoostingModel)new GradientBoostingLearner(nEstimators: 120, maxDepth: maxDepth, maxLeaves: maxLeaves, learningRate: 0.1, seed: 4).Learn(trainX, trainY);
        using var onnx = new MemoryStream();
        GradientBoostingOnnx.Write(model, onnx, FeatureNames);

        var (x, _) = PhishingData.Load();
        var expected = new double[x.Rows];
        model.PredictProbabilities(x, expected);
        using var session = new InferenceSession(onnx.ToArray());
        var features = new DenseTensor<float>(x.Values.Select(v => (float)v).ToArray(), [x.Rows, x.Columns]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(GradientBoostingOnnx.InputName, features)]);
        var probabilities = results.Single(r => r.Name == GradientBoostingOnnx.OutputName).AsEnumerable<float>().ToArray();
        Assert.Equal(x.Rows, probabilities.Length);
        for (var i = 0; i < x.Rows; i++)
        {
            Assert.Equal(expected[i], probabilities[i], 1e-5);
        }

        Assert.Contains(expected, p => p < 0.05);
        Assert.Contains(expected, p => p > 0.95);
    }

    [Fact]
    public void The_exported_file_names_its_features_in_order_and_says_its_input_must_be_imputed()
    {
        var (trainX, trainY) = PhishingData.Sample(4);
        var model = (GradientBoostingModel)new GradientBoostingLearner(nEstimators: 20, maxDepth: 3, seed: 1).Learn(trainX, trainY);
        using var onnx = new MemoryStream();
        GradientBoostingOnnx.Write(model, onnx, FeatureNames);

        // What a consumer holding only the file can read: the column order and that NaN is not imputed here.
        using var session = new InferenceSession(onnx.ToArray());
        Assert.Equal(string.Join(',', FeatureNames), session.ModelMetadata.CustomMetadataMap[GradientBoostingOnnx.FeatureNamesKey]);
        Assert.Contains("already imputed", session.ModelMetadata.Description, StringComparison.Ordinal);
        Assert.StartsWith("having_IP_Address,URL_Length,", session.ModelMetadata.CustomMetadataMap[GradientBoostingOnnx.FeatureNamesKey], StringComparison.Ordinal);

        // Why it must say so: a row with a missing value is scored by the graph as it is, not as the service imputes it.
        var (x, _) = PhishingData.Load();
        var row = x.Row(0).ToArray().Select(v => (float)v).ToArray();
        var missing = Enumerable.Range(0, row.Length).First(f => model.Trees.Any(t => t.Nodes[0].Feature == f));
        row[missing] = float.NaN;
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(GradientBoostingOnnx.InputName, new DenseTensor<float>(row, [1, row.Length]))]);
        Assert.Equal(model.PredictProbability([.. row.Select(v => (double)v)]), results.Single().AsEnumerable<float>().Single(), 1e-5);

        Assert.Throws<ArgumentException>(() => GradientBoostingOnnx.Write(model, new MemoryStream(), FeatureNames.Take(29).ToArray()));
    }

    [Fact]
    public void Feature_names_holding_a_comma_quote_or_line_break_are_quoted_so_the_file_still_names_each_column()
    {
        var (trainX, trainY) = PhishingData.Sample(4);
        var model = (GradientBoostingModel)new GradientBoostingLearner(nEstimators: 5, maxDepth: 2, seed: 1).Learn(trainX, trainY);
        string[] hostile = ["len,gth", "at \"sym\"", "ssl\nstate"];
        var names = hostile.Concat(FeatureNames.Skip(hostile.Length)).ToArray();
        using var onnx = new MemoryStream();
        GradientBoostingOnnx.Write(model, onnx, names);

        // Joined plainly, "len,gth" read as two names: 31 names for 30 columns.
        using var session = new InferenceSession(onnx.ToArray());
        Assert.Equal(
            "\"len,gth\",\"at \"\"sym\"\"\",\"ssl\nstate\"," + string.Join(',', FeatureNames.Skip(hostile.Length)),
            session.ModelMetadata.CustomMetadataMap[GradientBoostingOnnx.FeatureNamesKey]);
    }
}
