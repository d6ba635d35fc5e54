using Microsoft.ML;
using Microsoft.ML.Data;

namespace NetworkSecurity.Learning.MLNet;

/// <summary>
/// The input row of every ML.NET model here: a float vector "Features" (its length set at run time through the schema
/// definition) and a boolean "Label" (true = label 1). The saved zip and the ONNX graph take exactly these columns.
/// </summary>
public sealed class MLNetInputRow
{
    public float[] Features { get; set; } = [];

    public bool Label { get; set; }

    public static SchemaDefinition Schema(int featureCount)
    {
        var definition = SchemaDefinition.Create(typeof(MLNetInputRow));
        definition[nameof(Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, featureCount);
        return definition;
    }
}

/// <summary>What a binary ML.NET model adds: the calibrated probability of label 1.</summary>
public sealed class MLNetOutputRow
{
    public float Probability { get; set; }
}
