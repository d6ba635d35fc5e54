using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NetworkSecurity.Learning.Learners;
using NetworkSecurity.Learning.MLNet.Onnx;
using NetworkSecurity.Learning.Models;

namespace NetworkSecurity.Learning.MLNet.Tests;

public sealed class GradientBoostingOnnxTests
{
    [Theory]
    [InlineData(0, 32)]
    [InlineData(4, 0)]
    public void Our_boosted_trees_exported_as_onnx_score_like_ours_in_OnnxRuntime(int maxDepth, int maxLeaves)
    {
        var (trainX, trainY) = PhishingData.Sample(2);
        var model = (GradientBoostingModel)new GradientBoostingLearner(nEstimators: 120, maxDepth: maxDepth, maxLeaves: maxLeaves, learningRate: 0.1, seed: 4).Learn(trainX, trainY);
        using var onnx = new MemoryStream();
        GradientBoostingOnnx.Write(model, onnx);

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
}
