using NetworkSecurity.Learning.Data;

namespace NetworkSecurity.Learning.Tests;

public sealed class FeatureMatrixTests
{
    [Fact]
    public void A_negative_or_too_large_size_and_a_null_row_are_refused_naming_them()
    {
        // Before: OverflowException "Arithmetic operation resulted in an overflow" and a NullReferenceException.
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => new FeatureMatrix(-1, 5)).ParamName);
        Assert.Equal("columns", Assert.Throws<ArgumentOutOfRangeException>(() => new FeatureMatrix(5, -1)).ParamName);
        var huge = Assert.Throws<ArgumentOutOfRangeException>(() => new FeatureMatrix(int.MaxValue, 2));
        Assert.Contains($"A {int.MaxValue}x2 matrix has", huge.Message, StringComparison.Ordinal);
        var nullRow = Assert.Throws<ArgumentException>(() => FeatureMatrix.FromRows([[1.0, 2.0], null!]));
        Assert.Contains("Row 1 is null", nullRow.Message, StringComparison.Ordinal);

        var matrix = new FeatureMatrix(3, 2);
        Assert.Equal(6, matrix.Values.Length);
        Assert.Empty(new FeatureMatrix(0, 30).Values);
    }
}
