using System.Globalization;
using System.Reflection;
using MongoDB.Bson;
using NetworkSecurity.Pipeline.DataSources;

namespace NetworkSecurity.MongoDb.Tests;

/// <summary>Tests that set the driver's process-wide ObjectId counter run alone: other tests make ids meanwhile.</summary>
[CollectionDefinition(nameof(ObjectIdCounterCollection), DisableParallelization = true)]
public sealed class ObjectIdCounterCollection;

[Collection(nameof(ObjectIdCounterCollection))]
public sealed class PushOrderTests : MongoTestBase
{
    [Fact]
    public async Task Pushed_documents_read_back_in_the_file_order_when_the_driver_id_counter_wraps()
    {
        // The driver's ObjectIds are seconds, a per-process random value and a 3-byte counter that starts anywhere: when
        // it wrapped within a second, later records got smaller ids, so training (which reads by _id) saw another row
        // order than the file, other splits, and another model than from the CSV (about 1 load in 1,500 of this data set).
        var counter = typeof(ObjectId).GetField("__staticIncrement", BindingFlags.NonPublic | BindingFlags.Static);
        Assert.NotNull(counter);
        counter.SetValue(null, 0x00FFFFFF - 10);
        var options = Options(batchSize: 7);
        var csv = CsvTableReader.Read(new StringReader("x,y\n" + string.Join("\n", Enumerable.Range(0, 40).Select(i => $"{i},0")) + "\n"), "n.csv");

        await MongoDataLoader.PushAsync(options, csv, drop: true, CancellationToken.None);
        var table = await new MongoDataSource(options).ReadAsync(CancellationToken.None);

        Assert.Equal(Enumerable.Range(0, 40).Select(i => i.ToString(CultureInfo.InvariantCulture)), table.Records.Select(r => r.Values[0]));
    }
}
