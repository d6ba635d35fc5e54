using NetworkSecurity.Pipeline.Configuration;

namespace NetworkSecurity.Pipeline.Tests;

/// <summary>
/// The automatic training row limit is sized for the whole default grid: about 320 MiB for the process itself and
/// 3,072 bytes a record. At 2,048 bytes a record and nothing for the process, a 256 MiB heap accepted 131,072 rows and
/// training them with the default grid ran out of memory.
/// </summary>
public sealed class TrainingRecordLimitTests
{
    [Theory]
    [InlineData(1L << 30, 240_298)] // (1,073,741,824 - 335,544,320) / 3,072
    [InlineData(24L << 30, 8_279_381)] // this machine's 24 GiB
    [InlineData((320L << 20) + 3072, 1)]
    [InlineData((320L << 20) + 3071, 0)]
    [InlineData(256L << 20, 0)] // the heap that ran out with 131,072 rows
    [InlineData(0L, 0)]
    [InlineData(long.MaxValue, int.MaxValue)]
    public void The_automatic_limit_is_the_records_that_fit_beside_the_process_at_3072_bytes_each(long available, int expected)
    {
        Assert.Equal(expected, new PipelineOptions().TrainingRecordLimit(available).MaxRecords);
    }

    [Fact]
    public void The_refusal_names_the_memory_the_base_and_the_bytes_a_record()
    {
        var ex = new PipelineOptions().TrainingRecordLimit(256L << 20).Refuse("big.csv", "line 2 is record 1");

        Assert.StartsWith(
            "big.csv: line 2 is record 1, more than 0 records (the most that fit in the 256 MiB this process may use, beside about 320 MiB for training itself and at about 3,072 bytes a record: the automatic limit, as Pipeline:MaxTrainingRows is 0).",
            ex.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void A_configured_limit_is_used_as_it_is_whatever_the_memory()
    {
        Assert.Equal(5, new PipelineOptions { MaxTrainingRows = 5 }.TrainingRecordLimit(0).MaxRecords);
    }
}
