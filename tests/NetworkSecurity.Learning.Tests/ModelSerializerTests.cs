using System.Text;
using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Learners;
using NetworkSecurity.Learning.Models;
using NetworkSecurity.Learning.Serialization;

namespace NetworkSecurity.Learning.Tests;

/// <summary>Model files that are damaged, cut short, padded or of another version: a clear error, never another model.</summary>
public sealed class ModelSerializerTests
{
    private static readonly Lazy<(FeatureMatrix X, int[] Y)> Sample = new(() =>
    {
        var (x, y) = ReferenceData.PhishingData();
        var rows = Enumerable.Range(0, 1000).ToArray();
        return (x.SelectRows(rows), rows.Select(i => y[i]).ToArray());
    });

    private static IClassifierModel SmallModel()
    {
        var (x, y) = Sample.Value;
        return new AveragingLearner([new DecisionTreeLearner(maxDepth: 3), new GradientBoostingLearner(nEstimators: 3, maxDepth: 2)], [0.5, 0.5]).Learn(x, y);
    }

    [Fact]
    public void A_flipped_bit_anywhere_in_the_file_is_refused_as_damaged()
    {
        // Before (format 2, no hash) most flips loaded: a flipped bit in a threshold, a leaf value or an AdaBoost weight
        // is still a number, and a tree's leaf could become NaN or 1e300 (probabilities outside [0, 1]).
        var bytes = ModelSerializer.ToBytes(SmallModel());
        for (var i = 0; i < bytes.Length; i++)
        {
            var damaged = (byte[])bytes.Clone();
            damaged[i] ^= (byte)(1 << (i % 8));
            Assert.Throws<InvalidDataException>(() => ModelSerializer.FromBytes(damaged));
        }
    }

    [Fact]
    public void A_file_cut_short_anywhere_is_refused_as_truncated_and_one_with_bytes_after_the_model_too()
    {
        var bytes = ModelSerializer.ToBytes(SmallModel());
        for (var length = 0; length < bytes.Length; length++)
        {
            // Before: EndOfStreamException "Unable to read beyond the end of the stream", which says nothing of a model.
            var ex = Assert.Throws<InvalidDataException>(() => ModelSerializer.FromBytes(bytes[..length]));
            Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
        }

        var padded = Assert.Throws<InvalidDataException>(() => ModelSerializer.FromBytes([.. bytes, 0, 0]));
        Assert.Contains("followed by 2 more bytes", padded.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Another_version_is_named_and_format_2_files_still_load_as_the_same_model()
    {
        var model = SmallModel();
        var bytes = ModelSerializer.ToBytes(model);
        BitConverter.TryWriteBytes(bytes.AsSpan(4, 4), ModelSerializer.FormatVersion + 1);
        var ex = Assert.Throws<InvalidDataException>(() => ModelSerializer.FromBytes(bytes));
        Assert.Contains($"version {ModelSerializer.FormatVersion + 1} is not supported", ex.Message, StringComparison.Ordinal);

        // Format 2: kind and payload straight after the version, members likewise.
        var (x, _) = Sample.Value;
        var old = ModelSerializer.FromBytes(Format2(model));
        var expected = new double[x.Rows];
        var actual = new double[x.Rows];
        model.PredictProbabilities(x, expected);
        old.PredictProbabilities(x, actual);
        Assert.Equal(expected, actual);
        Assert.Equal(ModelSerializer.ToBytes(model), ModelSerializer.ToBytes(old));
    }

    private static byte[] Format2(IClassifierModel model)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8))
        {
            WriteFormat2(model, writer);
        }

        return stream.ToArray();
    }

    private static void WriteFormat2(IClassifierModel model, BinaryWriter writer)
    {
        writer.Write(0x4D43534Eu);
        writer.Write(2);
        writer.Write(((IPersistableModel)model).Kind);
        if (model is AveragingModel average)
        {
            writer.Write(average.Members.Length);
            for (var m = 0; m < average.Members.Length; m++)
            {
                writer.Write(average.Weights[m]);
                WriteFormat2(average.Members[m], writer);
            }
        }
        else
        {
            ((IPersistableModel)model).WriteTo(writer);
        }
    }
}
