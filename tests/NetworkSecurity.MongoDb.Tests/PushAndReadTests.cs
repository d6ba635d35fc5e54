using MongoDB.Bson;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Data;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.MongoDb.Tests;

/// <summary>push-data and the MongoDB data source through MongoDB.Driver, against the test server (or a real one).</summary>
public sealed class PushAndReadTests : MongoTestBase
{
    private static readonly DataSchema Schema = SchemaLoader.Load(TestPaths.SchemaFile);

    [Fact]
    public async Task Push_data_then_ingestion_gives_exactly_the_rows_of_the_csv()
    {
        var csv = CsvTableReader.ReadFile(TestPaths.DataFile);
        var options = Options(batchSize: 2000);
        var reports = new List<PushProgress>();
        var pushed = await MongoDataLoader.PushAsync(options, csv.Columns, csv.Records, drop: true, new SynchronousProgress<PushProgress>(reports.Add), CancellationToken.None);
        Assert.Equal((11055L, 11055L, 11055L, 0L), (pushed.Read, pushed.Inserted, pushed.CollectionCount, pushed.RejectedCount));
        Assert.Equal([2000L, 4000, 6000, 8000, 10000, 11055], reports.Select(r => r.Inserted));

        var table = await new MongoDataSource(options, MongoDataSource.FieldsOf(Schema)).ReadAsync(CancellationToken.None);
        Assert.Equal(csv.Columns, table.Columns);
        Assert.Equal(11055, table.Records.Count);
        for (var r = 0; r < csv.Records.Count; r++)
        {
            Assert.Equal(csv.Records[r].Values, table.Records[r].Values);
        }

        Assert.Matches("^document _id [0-9a-f]{24}$", table.Records[0].Location);
        var parsed = DatasetParser.Parse(table, Schema, requireTarget: true, allowUnknownColumns: false);
        Assert.Empty(parsed.Invalid);
        Assert.Equal(6157, parsed.Valid.CountOf(1));
        if (RealServer is null)
        {
            var inserts = Server.Received.Where(c => c.GetElement(0).Name == "insert").ToList();
            Assert.Equal(6, inserts.Count); // batches of 2000
            Assert.All(inserts, i => Assert.False(i["ordered"].AsBoolean));
            var find = Server.Received.Last(c => c.GetElement(0).Name == "find"); // after the one-document sample
            Assert.Equal(2000, find["batchSize"].ToInt32());
            Assert.Equal(31, find["projection"].AsBsonDocument.Count(e => csv.Columns.Contains(e.Name)));
            Assert.Equal(5, Server.Commands.Count(c => c == "getMore"));
        }
    }

    [Fact]
    public async Task Push_data_with_drop_is_safe_to_re_run()
    {
        var csv = CsvTableReader.Read(new StringReader("a,b\n1,2\n3,4\n"), "small.csv");
        var options = Options();
        await MongoDataLoader.PushAsync(options, csv, drop: true, CancellationToken.None);
        var again = await MongoDataLoader.PushAsync(options, csv, drop: true, CancellationToken.None);
        Assert.Equal(2, again.CollectionCount);
        var appended = await MongoDataLoader.PushAsync(options, csv, drop: false, CancellationToken.None);
        Assert.Equal(4, appended.CollectionCount);
    }

    [Fact]
    public async Task Push_data_with_drop_keeps_the_collections_validator_collation_and_indexes()
    {
        // Dropping the collection first lost them; the documents now go to a collection made like it, renamed over it.
        var options = TestServerOptions();
        var validator = new BsonDocument("$jsonSchema", new BsonDocument("required", new BsonArray { "a" }));
        Server.Create(options.Database, options.Collection, new BsonDocument { ["validator"] = validator, ["validationAction"] = "error", ["collation"] = new BsonDocument("locale", "en") });
        Server.Insert(options.Database, options.Collection, "{\"a\": 0, \"b\": 0}");
        using (var connection = await MongoConnection.OpenAsync(options, CancellationToken.None))
        {
            await connection.Collection.Indexes.CreateOneAsync(new MongoDB.Driver.CreateIndexModel<BsonDocument>(
                new BsonDocument("a", 1), new MongoDB.Driver.CreateIndexOptions { Name = "by_a", Unique = true }));
        }

        var pushed = await MongoDataLoader.PushAsync(options, CsvTableReader.Read(new StringReader("a,b\n1,2\n3,4\n"), "small.csv"), drop: true, CancellationToken.None);
        Assert.Equal(2, pushed.CollectionCount);
        Assert.Equal([1, 3], Server.Documents(options.Database, options.Collection).Select(d => d["a"].AsInt32));
        AssertNoStaging(options);
        var info = Server.Info(options.Database, options.Collection)!.Value;
        Assert.Equal(validator, info.Options["validator"]);
        Assert.Equal("error", info.Options["validationAction"].AsString);
        Assert.Equal(new BsonDocument("locale", "en"), info.Options["collation"]);
        var index = Assert.Single(info.Indexes);
        Assert.Equal(("by_a", new BsonDocument("a", 1), true), (index["name"].AsString, index["key"].AsBsonDocument, index["unique"].ToBoolean()));
    }

    [Fact]
    public async Task Push_data_with_drop_keeps_a_clustered_collections_clustered_index_and_ttl()
    {
        // They were left out of the staging collection's create, so the collection that replaced it was neither
        // clustered nor expiring; and the clustered index's own entry (named "by_id") was sent to createIndexes, which
        // refused it.
        var options = TestServerOptions();
        var created = new BsonDocument
        {
            ["clusteredIndex"] = new BsonDocument { ["v"] = 2, ["key"] = new BsonDocument("_id", 1), ["name"] = "by_id", ["unique"] = true },
            ["expireAfterSeconds"] = 86400,
            ["changeStreamPreAndPostImages"] = new BsonDocument("enabled", true),
        };
        Server.Create(options.Database, options.Collection, created);
        Server.Insert(options.Database, options.Collection, "{\"a\": 0, \"b\": 0}");

        var pushed = await MongoDataLoader.PushAsync(options, CsvTableReader.Read(new StringReader("a,b\n1,2\n3,4\n"), "small.csv"), drop: true, CancellationToken.None);

        Assert.Equal(2, pushed.CollectionCount);
        AssertNoStaging(options);
        var info = Server.Info(options.Database, options.Collection)!.Value;
        Assert.Equal(created, info.Options);
        Assert.Empty(info.Indexes);
    }

    [Fact]
    public async Task A_push_with_drop_refuses_a_collection_whose_options_it_cannot_carry_over()
    {
        // The staging collection was made without them: an encrypted collection was replaced by one that stores the
        // fields in the clear.
        var options = TestServerOptions();
        var encrypted = new BsonDocument("fields", new BsonArray { new BsonDocument { ["path"] = "a", ["bsonType"] = "int" } });
        Server.Create(options.Database, options.Collection, new BsonDocument { ["encryptedFields"] = encrypted, ["validationLevel"] = "strict" });
        Server.Insert(options.Database, options.Collection, "{\"a\": 0, \"b\": 0}");

        var ex = await Assert.ThrowsAsync<MongoException>(() => MongoDataLoader.PushAsync(options, CsvTableReader.Read(new StringReader("a,b\n1,2\n"), "small.csv"), drop: true, CancellationToken.None));

        Assert.StartsWith($"{options.Database}.{options.Collection} at {Server.ConnectionString} was created with encryptedFields, which push-data --drop cannot give the collection that replaces it (validator, ", ex.Message);
        Assert.EndsWith("only): it is unchanged. Push without --drop, or recreate the collection yourself.", ex.Message);
        Assert.Equal([0], Server.Documents(options.Database, options.Collection).Select(d => d["a"].AsInt32));
        Assert.Equal(encrypted, Server.Info(options.Database, options.Collection)!.Value.Options["encryptedFields"]);
        Assert.DoesNotContain("insert", Server.Commands);
        AssertNoStaging(options);
    }

    [Fact]
    public async Task Push_data_stores_ints_doubles_strings_and_nulls()
    {
        var csv = CsvTableReader.Read(new StringReader("a,b,c,d\n1,0.5,abc,na\n-1,,x1,2\n"), "types.csv");
        var options = TestServerOptions();
        await MongoDataLoader.PushAsync(options, csv, drop: true, CancellationToken.None);
        var stored = Server.Documents(options.Database, options.Collection);
        Assert.Equal(2, stored.Count);
        Assert.Equal(BsonType.ObjectId, stored[0]["_id"].BsonType);
        Assert.Equal(new BsonInt32(1), stored[0]["a"]);
        Assert.Equal(new BsonDouble(0.5), stored[0]["b"]);
        Assert.Equal(new BsonString("abc"), stored[0]["c"]);
        Assert.Equal(BsonNull.Value, stored[0]["d"]);
        Assert.Equal(BsonNull.Value, stored[1]["b"]);
    }

    [Fact]
    public async Task Documents_the_server_rejects_are_reported_with_index_and_reason_and_the_rest_are_stored()
    {
        var options = TestServerOptions(batchSize: 10);
        Server.Reject = d => d["x"].AsInt32 % 17 == 3 ? $"x = {d["x"]} is not allowed" : null;
        var csv = CsvTableReader.Read(new StringReader("x,y\n" + string.Join("\n", Enumerable.Range(0, 50).Select(i => $"{i},0")) + "\n"), "n.csv");
        var result = await MongoDataLoader.PushAsync(options, csv, drop: true, CancellationToken.None);
        Assert.Equal((50L, 47L, 47L, 3L), (result.Read, result.Inserted, result.CollectionCount, result.RejectedCount));
        Assert.Equal([3L, 20, 37], result.Rejected.Select(r => r.Index));
        Assert.Equal(["line 5", "line 22", "line 39"], result.Rejected.Select(r => r.Location));
        Assert.All(result.Rejected, r => Assert.Contains("Document failed validation: x = ", r.Reason));
        Assert.Contains("code 121", result.Rejected[0].Reason);
        Assert.DoesNotContain(Server.Documents(options.Database, options.Collection), d => d["x"].AsInt32 % 17 == 3);
    }

    [Fact]
    public async Task A_push_with_drop_whose_every_record_is_rejected_leaves_the_collection_as_it_was()
    {
        // The staging collection made like the target has its validator: when it refused every record (a file of another
        // layout), the empty staging collection still replaced the target, and all its documents were lost.
        var options = TestServerOptions(batchSize: 10);
        Server.Insert(options.Database, options.Collection, "{\"x\": -1}", "{\"x\": -2}");
        Server.Reject = d => d.Contains("x") && d["x"].AsInt32 >= 0 ? "x must be negative" : null;
        var csv = CsvTableReader.Read(new StringReader("x,y\n" + string.Join("\n", Enumerable.Range(0, 25).Select(i => $"{i},0")) + "\n"), "n.csv");
        var ex = await Assert.ThrowsAsync<MongoException>(() => MongoDataLoader.PushAsync(options, csv, drop: true, CancellationToken.None));
        Assert.Equal([-1, -2], Server.Documents(options.Database, options.Collection).Select(d => d["x"].AsInt32));
        AssertNoStaging(options);
        Assert.StartsWith("The server rejected all 25 records, so they do not replace the collection's documents (the first, line 2: ", ex.Message);
        Assert.Contains("x must be negative", ex.Message);
        Assert.Contains($"{options.Database}.{options.Collection} is unchanged", ex.Message);
    }

    [Fact]
    public async Task Documents_are_read_in_id_order_whatever_order_the_server_keeps_them_in()
    {
        // A find without a sort gets the server's order (on a sharded cluster, the shards' answers as they arrive), so
        // one unchanged collection could give each run other splits and another model.
        var options = TestServerOptions(batchSize: 2);
        Server.Insert(options.Database, options.Collection, "{\"_id\": 3, \"x\": \"c\"}", "{\"_id\": 1, \"x\": \"a\"}", "{\"_id\": \"z\", \"x\": \"e\"}", "{\"_id\": 2, \"x\": \"b\"}", "{\"_id\": 10, \"x\": \"d\"}");
        var table = await new MongoDataSource(options).ReadAsync(CancellationToken.None);
        Assert.Equal(["a", "b", "c", "d", "e"], table.Records.Select(r => r.Values[0]));
        Assert.All(Server.Received.Where(c => c.GetElement(0).Name == "find"), c => Assert.Equal(new BsonDocument("_id", 1), c["sort"]));
    }

    [Fact]
    public async Task Small_cursor_batches_stream_every_document_in_order()
    {
        var options = Options(batchSize: 7);
        var csv = CsvTableReader.Read(new StringReader("x,y\n" + string.Join("\n", Enumerable.Range(0, 50).Select(i => $"{i},0")) + "\n"), "n.csv");
        await MongoDataLoader.PushAsync(options, csv, drop: true, CancellationToken.None);
        var table = await new MongoDataSource(options).ReadAsync(CancellationToken.None);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), table.Records.Select(r => r.Values[0]));
        if (RealServer is null)
        {
            Assert.Equal(7, Server.Commands.Count(c => c == "getMore")); // 7 + 7×6 + 1
            Assert.All(Server.Received.Where(c => c.GetElement(0).Name == "getMore"), g => Assert.Equal(7, g["batchSize"].ToInt32()));
            Assert.DoesNotContain(Server.Received, c => c.GetElement(0).Name == "find" && c.Contains("projection"));
        }
    }

    [Fact]
    public async Task Numbers_of_every_numeric_type_na_null_and_absent_fields_are_read_and_other_types_are_invalid_rows_naming_the_id()
    {
        var options = TestServerOptions();
        var ones = string.Join(", ", Schema.FeatureNames.Select(n => $"\"{n}\": 1"));
        string Doc(int id, string replace, string with, string result = "1") =>
            $"{{\"_id\": {{\"$oid\": \"65a0000000000000000000{id:00}\"}}, {ones.Replace(replace, with, StringComparison.Ordinal)}, \"Result\": {result}, \"extra\": true}}";
        Server.Insert(options.Database, options.Collection,
            Doc(1, "\"SFH\": 1", "\"SFH\": {\"$numberLong\": \"-1\"}", "{\"$numberLong\": \"-1\"}"), // int64
            Doc(2, "\"SFH\": 1", "\"SFH\": -1.0", "1.0"), // double
            Doc(3, "\"SFH\": 1", "\"SFH\": \"-1\"", "\"1\""), // numeric strings
            Doc(4, "\"SFH\": 1", "\"SFH\": null"), // null
            Doc(5, "\"SFH\": 1", "\"SFH\": \"na\""), // "na"
            Doc(6, "\"SFH\": 1, ", ""), // absent
            Doc(7, "\"SFH\": 1", "\"SFH\": true"), // bool
            Doc(8, "\"port\": 1", "\"port\": {\"a\": 1}"), // object
            Doc(9, "\"port\": 1", "\"port\": [1]"), // array
            Doc(10, "\"port\": 1", "\"port\": {\"$date\": \"2024-01-02T00:00:00Z\"}"), // date
            Doc(11, "\"port\": 1", "\"port\": \"high\"")); // non-numeric string

        var table = await new MongoDataSource(options, MongoDataSource.FieldsOf(Schema)).ReadAsync(CancellationToken.None);
        Assert.DoesNotContain("extra", table.Columns); // projected away on the server
        var parsed = DatasetParser.Parse(table, Schema, requireTarget: true, allowUnknownColumns: false);
        var sfh = Schema.FeatureNames.ToList().IndexOf("SFH");
        Assert.Equal(6, parsed.Valid.Count);
        Assert.Equal([-1.0, -1, -1, double.NaN, double.NaN, double.NaN], Enumerable.Range(0, 6).Select(r => parsed.Valid.Features[r, sfh]));
        Assert.Equal([0, 1, 1, 1, 1, 1], parsed.Valid.Labels);
        Assert.Equal(
            [
                ("document _id 65a000000000000000000007", "SFH", "'BSON bool: true' is not a number."),
                ("document _id 65a000000000000000000008", "port", "'BSON object: { \"a\" : 1 }' is not a number."),
                ("document _id 65a000000000000000000009", "port", "'BSON array: [1]' is not a number."),
                ("document _id 65a000000000000000000010", "port", "'BSON date: 2024-01-02T00:00:00Z' is not a number."),
                ("document _id 65a000000000000000000011", "port", "'high' is not a number."),
            ],
            parsed.Invalid.Select(i => (i.Location, i.Problems.Single().Field!, i.Problems.Single().Message)));
        // Fields have no position a reader could count (only the order first seen across the collection): named, not numbered.
        Assert.All(parsed.Invalid, i => Assert.Null(i.Problems.Single().Column));
        Assert.EndsWith("document _id 65a000000000000000000007 (SFH): 'BSON bool: true' is not a number.", parsed.Invalid[0].Problems.Single().ToString());
    }

    [Fact]
    public async Task A_string_that_is_not_valid_utf8_makes_its_document_an_invalid_row_naming_the_id_and_field()
    {
        // MongoDB keeps such strings as another client wrote them; the driver's strict decoding threw a
        // DecoderFallbackException out of the read ("Unable to translate bytes [FF]"), naming no document or field.
        var options = TestServerOptions();
        byte[] Raw(string id, string feature, string result)
        {
            var document = new BsonDocument { ["_id"] = id };
            foreach (var name in Schema.FeatureNames)
            {
                document[name] = name == feature ? "1\u00a7" : 1;
            }

            document["Result"] = result;
            var bytes = document.ToBson();
            bytes[Array.IndexOf(bytes, (byte)0xA7) - 1] = 0xFF; // "§" (C2 A7) becomes FF A7: not UTF-8
            return bytes;
        }

        // String _ids sort before ObjectIds: the first document, the sample the projection is chosen from.
        Server.StoreRaw(options.Database, options.Collection, Raw("bad-sfh", "SFH", "1"));
        Server.StoreRaw(options.Database, options.Collection, Raw("bad-port", "port", "-1"));
        var ones = string.Join(", ", Schema.FeatureNames.Select(n => $"\"{n}\": 1"));
        Server.Insert(options.Database, options.Collection, $"{{\"_id\": {{\"$oid\": \"65a000000000000000000001\"}}, {ones}, \"Result\": -1}}");

        var table = await new MongoDataSource(options, MongoDataSource.FieldsOf(Schema)).ReadAsync(CancellationToken.None);

        var parsed = DatasetParser.Parse(table, Schema, requireTarget: true, allowUnknownColumns: false);
        Assert.Equal(1, parsed.Valid.Count);
        Assert.Equal(
            [("document _id bad-port", "port", "'1\ufffd\ufffd' is not a number."), ("document _id bad-sfh", "SFH", "'1\ufffd\ufffd' is not a number.")],
            parsed.Invalid.Select(i => (i.Location, i.Problems.Single().Field!, i.Problems.Single().Message)));
    }

    [Theory]
    [InlineData("a-first")]
    [InlineData("z-later")]
    public async Task A_document_naming_a_field_twice_is_an_invalid_row_naming_the_id_and_field(string id)
    {
        // MongoDB stores such a document. First by _id (the sample the projection is chosen from), it threw
        // "Duplicate element name 'SFH'" out of the read; later, its last SFH was taken silently.
        var options = TestServerOptions();
        var ones = string.Join(", ", Schema.FeatureNames.Select(n => $"\"{n}\": 1"));
        Server.Insert(options.Database, options.Collection, $"{{\"_id\": \"m-ok\", {ones}, \"Result\": -1}}");
        var twice = new BsonDocument(allowDuplicateNames: true) { { "_id", id } };
        foreach (var name in Schema.FeatureNames)
        {
            twice.Add(name, 1);
        }

        twice.Add("SFH", -1);
        twice.Add("Result", 1);
        Server.StoreRaw(options.Database, options.Collection, twice.ToBson());

        var table = await new MongoDataSource(options, MongoDataSource.FieldsOf(Schema)).ReadAsync(CancellationToken.None);

        var parsed = DatasetParser.Parse(table, Schema, requireTarget: true, allowUnknownColumns: false);
        Assert.Equal(1, parsed.Valid.Count);
        var invalid = Assert.Single(parsed.Invalid);
        Assert.Equal($"document _id {id}", invalid.Location);
        Assert.Equal("the field SFH appears more than once in the document, so its value is ambiguous (1, -1).", invalid.Problems.Single().Message);
    }

    [Fact]
    public async Task Fields_named_in_another_case_are_read_as_the_csv_header_would_be()
    {
        // A CSV whose header says "result" and "sfh" trains; the same records in a collection were refused with
        // "missing the target column 'Result'" (the projection, case-sensitive, left those fields on the server).
        var options = TestServerOptions();
        var features = Schema.FeatureNames.Select(n => n == "SFH" ? "sfh" : n).ToList();
        string Doc(int id, int label) => $"{{\"_id\": {id}, {string.Join(", ", features.Select(n => $"\"{n}\": {(n == "sfh" ? -1 : 1)}"))}, \"result\": {label}, \"note\": \"x\"}}";
        Server.Insert(options.Database, options.Collection, Doc(1, 1), Doc(2, -1));
        var table = await new MongoDataSource(options, MongoDataSource.FieldsOf(Schema)).ReadAsync(CancellationToken.None);
        Assert.DoesNotContain("note", table.Columns); // still projected away on the server
        var parsed = DatasetParser.Parse(table, Schema, requireTarget: true, allowUnknownColumns: false);
        Assert.Empty(parsed.Invalid);
        Assert.Equal([1, 0], parsed.Valid.Labels); // 1 legitimate, -1 phishing
        Assert.Equal([-1.0, -1], Enumerable.Range(0, 2).Select(r => parsed.Valid.Features[r, features.IndexOf("sfh")]));
    }

    [Fact]
    public async Task A_field_spelt_nearly_as_a_feature_is_named_in_the_missing_feature_error()
    {
        // A CSV header's "having IP Address" gets "'having IP Address' looks like having_IP_Address"; the same field in
        // a collection stayed on the server (the projection), and the error said only "missing column(s)".
        var options = TestServerOptions();
        string Doc(int id, string name) => $"{{\"_id\": {id}, {string.Join(", ", Schema.FeatureNames.Select(n => $"\"{(n == "having_IP_Address" ? name : n)}\": 1"))}, \"Result\": 1, \"SFH_\": 0}}";
        Server.Insert(options.Database, options.Collection, Doc(1, "having IP Address"), Doc(2, "having IP Address"));
        var table = await new MongoDataSource(options, MongoDataSource.FieldsOf(Schema)).ReadAsync(CancellationToken.None);
        Assert.DoesNotContain("SFH_", table.Columns); // a near miss of a field the documents hold is not fetched
        var ex = Assert.Throws<PipelineException>(() => DatasetParser.Parse(table, Schema, requireTarget: true, allowUnknownColumns: false));
        Assert.Equal($"{options.Namespace}, field names: missing column(s): having_IP_Address; 'having IP Address' looks like having_IP_Address (rename the column, or add it to the feature's aliases in the schema); unknown column(s): having IP Address (add them as aliases in the schema if they are renamed features, or to its index_columns to leave them out).", ex.Message);
    }

    [Fact]
    public async Task Features_kept_in_a_sub_document_are_named_as_such()
    {
        // {"features": {"SFH": 1, ...}, "Result": 1}: the error listed all 30 features as missing columns.
        var options = TestServerOptions();
        string Doc(int id) => $"{{\"_id\": {id}, \"features\": {{{string.Join(", ", Schema.FeatureNames.Select(n => $"\"{n}\": 1"))}}}, \"Result\": 1}}";
        Server.Insert(options.Database, options.Collection, Doc(7), Doc(8));
        var ex = await Assert.ThrowsAsync<PipelineException>(() => new MongoDataSource(options, MongoDataSource.FieldsOf(Schema)).ReadAsync(CancellationToken.None));
        Assert.Equal($"{options.Namespace}: the first document (_id 7) holds the schema's fields inside the sub-document 'features' (features.having_IP_Address, features.URL_Length, features.Shortining_Service, …), not as top-level fields: training reads top-level fields, as push-data stores them. Store the features at the top level of each document.", ex.Message);
    }

    [Fact]
    public async Task A_later_document_spelling_a_field_in_another_case_is_refused_not_read_as_missing()
    {
        // The projection held the first document's spellings only: the second document's "sfh" stayed on the server,
        // and its -1 became a missing value that training imputed, without a word.
        var options = TestServerOptions();
        string Doc(int id, string sfh) => $"{{\"_id\": {id}, {string.Join(", ", Schema.FeatureNames.Select(n => $"\"{(n == "SFH" ? sfh : n)}\": {(n == "SFH" ? -1 : 1)}"))}, \"Result\": 1}}";
        Server.Insert(options.Database, options.Collection, Doc(1, "SFH"), Doc(2, "sfh"));
        var table = await new MongoDataSource(options, MongoDataSource.FieldsOf(Schema)).ReadAsync(CancellationToken.None);
        var ex = Assert.Throws<PipelineException>(() => DatasetParser.Parse(table, Schema, requireTarget: true, allowUnknownColumns: false));
        Assert.Equal($"{options.Namespace}, field names (SFH): fields 'SFH' and 'sfh' both map to feature 'SFH': use one name for it in every document.", ex.Message);
    }

    [Fact]
    public async Task Fields_named_with_surrounding_spaces_are_read_as_the_csv_header_would_be_and_only_schema_fields_are_kept()
    {
        // A CSV header " SFH " is the feature SFH; the collection's field " SFH " was left on the server ("missing
        // column(s): SFH"). The document without "port" makes the read fetch whole documents: "note" is still dropped.
        var options = TestServerOptions();
        string Doc(int id, int sfh, bool port) => $"{{\"_id\": {id}, {string.Join(", ", Schema.FeatureNames.Where(n => port || n != "port").Select(n => $"\"{(n == "SFH" ? " SFH " : n)}\": {(n == "SFH" ? sfh : 1)}"))}, \"Result\": 1, \"note\": \"x\"}}";
        Server.Insert(options.Database, options.Collection, Doc(1, -1, port: true), Doc(2, 0, port: false));
        var table = await new MongoDataSource(options, MongoDataSource.FieldsOf(Schema)).ReadAsync(CancellationToken.None);
        Assert.DoesNotContain("note", table.Columns);
        var parsed = DatasetParser.Parse(table, Schema, requireTarget: true, allowUnknownColumns: false);
        Assert.Empty(parsed.Invalid);
        var (sfh, port) = (Schema.FeatureNames.ToList().IndexOf("SFH"), Schema.FeatureNames.ToList().IndexOf("port"));
        Assert.Equal([-1.0, 0], Enumerable.Range(0, 2).Select(r => parsed.Valid.Features[r, sfh]));
        Assert.Equal([1.0, double.NaN], Enumerable.Range(0, 2).Select(r => parsed.Valid.Features[r, port]));
    }

    [Fact]
    public async Task Fields_whose_names_hold_a_dot_are_read_as_push_data_stored_them()
    {
        // MongoDB reads a projected "price.usd" as the path price → usd: the feature of a schema that names it, stored
        // by push-data as the field "price.usd", was never fetched ("missing column(s): price.usd").
        var schema = SchemaLoader.Parse("""
            features:
              - name: price.usd
                type: float
              - name: n
                allowed: [0, 1]
            target:
              name: label
              classes:
                - {value: 0, name: legitimate}
                - {value: 1, name: phishing}
            """, "dots.yaml");
        var options = TestServerOptions();
        var csv = CsvTableReader.Read(new StringReader("n,price.usd,label\n1,1.5,1\n0,2.25,0\n"), "dots.csv");
        await MongoDataLoader.PushAsync(options, csv, drop: true, CancellationToken.None);
        var table = await new MongoDataSource(options, MongoDataSource.FieldsOf(schema)).ReadAsync(CancellationToken.None);
        Assert.Equal(["n", "price.usd", "label"], table.Columns);
        var parsed = DatasetParser.Parse(table, schema, requireTarget: true, allowUnknownColumns: false);
        Assert.Empty(parsed.Invalid);
        Assert.Equal([1.5, 2.25], Enumerable.Range(0, 2).Select(r => parsed.Valid.Features[r, 0]));
        Assert.Equal([0, 1], parsed.Valid.Labels);
    }

    [Fact]
    public async Task Documents_naming_the_label_two_ways_are_refused_naming_the_fields_not_a_csv_column()
    {
        var options = TestServerOptions();
        var ones = string.Join(", ", Schema.FeatureNames.Select(n => $"\"{n}\": 1"));
        Server.Insert(options.Database, options.Collection, $"{{\"_id\": 1, {ones}, \"Result\": 1}}", $"{{\"_id\": 2, {ones}, \"class\": -1}}");
        var table = await new MongoDataSource(options, MongoDataSource.FieldsOf(Schema)).ReadAsync(CancellationToken.None);
        var ex = Assert.Throws<PipelineException>(() => DatasetParser.Parse(table, Schema, requireTarget: true, allowUnknownColumns: false));
        // It said "line 1, column 32 (Result): columns 31 ('Result') and 32 ('class')": a collection has neither.
        Assert.Equal($"{options.Namespace}, field names (Result): fields 'Result' and 'class' both map to the target 'Result': use one name for it in every document.", ex.Message);
        Assert.Null(ex.Problems.Single().Column);
    }

    [Fact]
    public async Task Ids_of_any_type_are_shown_as_mongosh_writes_them()
    {
        var options = TestServerOptions();
        Server.Insert(options.Database, options.Collection,
            "{\"_id\": null, \"x\": 1}",
            "{\"_id\": {\"$binary\": {\"base64\": \"AAECAwQFBgcICQoLDA0ODw==\", \"subType\": \"04\"}}, \"x\": 1}",
            "{\"_id\": {\"$date\": \"2024-01-02T03:04:05Z\"}, \"x\": 1}",
            "{\"_id\": {\"$numberLong\": \"7\"}, \"x\": 1}",
            "{\"_id\": 7, \"x\": 1}",
            "{\"_id\": {\"a\": 1}, \"x\": 1}");
        var table = await new MongoDataSource(options).ReadAsync(CancellationToken.None);
        // BsonValue.ToString said "BsonNull" and "UuidStandard:0x000102…": nothing to look the document up by. (The read
        // sorts by _id, which orders types as MongoDB does; the names are what this test is about.)
        Assert.Equal(
            new[] { "document _id null", "document _id UUID(\"00010203-0405-0607-0809-0a0b0c0d0e0f\")", "document _id ISODate(\"2024-01-02T03:04:05Z\")",
             "document _id NumberLong(7)", "document _id 7", "document _id { \"a\" : 1 }" }.Order(StringComparer.Ordinal),
            table.Records.Select(r => r.Location).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_string_id_with_a_line_break_is_shown_escaped_so_it_cannot_forge_a_log_line()
    {
        var options = TestServerOptions();
        Server.Insert(options.Database, options.Collection, "{\"_id\": \"bad\\n[12:00:00 ERR] forged\\u001b[31m\", \"x\": 1}", "{\"_id\": \"plain id\", \"x\": 1}");
        var table = await new MongoDataSource(options).ReadAsync(CancellationToken.None);
        Assert.Equal(["document _id \"bad\\n[12:00:00 ERR] forged\\u001b[31m\"", "document _id plain id"], table.Records.Select(r => r.Location));
        Assert.DoesNotContain(table.Records, r => r.Location.Any(char.IsControl));
    }

    [Fact]
    public async Task A_string_id_with_a_bidi_override_or_line_separator_is_shown_escaped()
    {
        // Only control characters were escaped: U+202E turned the rest of the report's line around in a terminal
        // ("(SFH): 'x' is not a number" read backwards), and U+2028 starts a new line in many log viewers.
        var options = TestServerOptions();
        Server.Insert(options.Database, options.Collection, "{\"_id\": \"a\\u202Eb\", \"x\": 1}", "{\"_id\": \"c\\u2028[12:00:00 ERR] forged\", \"x\": 1}");
        var table = await new MongoDataSource(options).ReadAsync(CancellationToken.None);
        Assert.Equal(["document _id \"a\\u202eb\"", "document _id \"c\\u2028[12:00:00 ERR] forged\""], table.Records.Select(r => r.Location));
        Assert.Equal("\"a\\u202eb\"", MongoRowSerializer.Describe(new BsonString("a\u202Eb")));
    }

    [Fact]
    public async Task A_field_name_with_a_bidi_override_is_escaped_in_the_column_error()
    {
        // The near miss of having_IP_Address is fetched so the error can name it; its U+202E went into the message raw
        // (control characters were escaped, format characters and U+2028 were not) and turned the line around.
        var options = TestServerOptions();
        var fields = string.Join(", ", Schema.FeatureNames.Select(n => n == "having_IP_Address" ? "\"having\\nIP\\u202eAddress\\u2028\": 1" : $"\"{n}\": 1"));
        Server.Insert(options.Database, options.Collection, $"{{\"_id\": 1, {fields}, \"Result\": 1}}", $"{{\"_id\": 2, {fields}, \"Result\": -1}}");
        var table = await new MongoDataSource(options, MongoDataSource.FieldsOf(Schema)).ReadAsync(CancellationToken.None);
        var ex = Assert.Throws<PipelineException>(() => DatasetParser.Parse(table, Schema, requireTarget: true, allowUnknownColumns: false));
        Assert.Contains("'having\\x0AIP\\u202EAddress\\u2028' looks like having_IP_Address", ex.Message);
        Assert.DoesNotContain(ex.Message, c => c is '\u202E' or '\u2028' || char.IsControl(c));
    }

    [Fact]
    public async Task A_string_value_with_a_line_break_is_escaped_in_the_error_naming_it()
    {
        // "'1\n[12:00:00 ERR] forged' is not a number." went raw into the validation report and the log: a second,
        // forged line (ids and field names were escaped, values were not).
        var options = TestServerOptions();
        var fields = string.Join(", ", Schema.FeatureNames.Select(n => n == "SFH" ? "\"SFH\": \"1\\n[12:00:00 ERR] forged\\u202e\"" : $"\"{n}\": 1"));
        Server.Insert(options.Database, options.Collection, $"{{\"_id\": 1, {fields}, \"Result\": 1}}");
        var table = await new MongoDataSource(options, MongoDataSource.FieldsOf(Schema)).ReadAsync(CancellationToken.None);
        var parsed = DatasetParser.Parse(table, Schema, requireTarget: true, allowUnknownColumns: false);
        var message = parsed.Invalid.Single().Problems.Single().Message;
        Assert.Equal("'1\\x0A[12:00:00 ERR] forged\\u202E' is not a number.", message);
    }

    [Fact]
    public async Task A_negative_zero_reads_the_same_from_the_csv_and_from_mongodb()
    {
        // The data set hash is of the values' bytes: "-0" in a CSV was -0.0, the same record pushed to MongoDB (stored as
        // 0) read back as 0.0, so the same rows from the CSV and MongoDB had different hashes.
        var lines = File.ReadLines(TestPaths.DataFile).Take(4).ToArray();
        lines[1] = "-0," + lines[1][(lines[1].IndexOf(',', StringComparison.Ordinal) + 1)..];
        lines[2] = "-0.0," + lines[2][(lines[2].IndexOf(',', StringComparison.Ordinal) + 1)..];
        var csv = CsvTableReader.Read(new StringReader(string.Join("\n", lines) + "\n"), "z.csv");
        var options = TestServerOptions();
        await MongoDataLoader.PushAsync(options, csv, drop: true, CancellationToken.None);
        var fromMongo = DatasetParser.Parse(await new MongoDataSource(options, MongoDataSource.FieldsOf(Schema)).ReadAsync(CancellationToken.None), Schema, requireTarget: true, allowUnknownColumns: false).Valid;
        var fromCsv = DatasetParser.Parse(csv, Schema, requireTarget: true, allowUnknownColumns: false).Valid;
        Assert.Equal(3, fromCsv.Count);
        for (var r = 0; r < 2; r++)
        {
            Assert.Equal(BitConverter.DoubleToInt64Bits(fromMongo.Features[r, 0]), BitConverter.DoubleToInt64Bits(fromCsv.Features[r, 0]));
            Assert.False(double.IsNegative(fromCsv.Features[r, 0]));
        }
    }

    [Fact]
    public async Task Without_a_projection_every_field_becomes_a_column_in_first_seen_order()
    {
        var options = TestServerOptions();
        Server.Insert(options.Database, options.Collection, "{\"_id\": \"a\", \"x\": 1}", "{\"_id\": \"b\", \"y\": 2, \"x\": {\"$numberDouble\": \"NaN\"}}");
        var table = await new MongoDataSource(options).ReadAsync(CancellationToken.None);
        Assert.Equal(["x", "y"], table.Columns);
        Assert.Equal(new string?[] { "1", null }, table.Records[0].Values.AsEnumerable());
        Assert.Equal(new string?[] { null, "2" }, table.Records[1].Values.AsEnumerable());
        Assert.Equal(["document _id a", "document _id b"], table.Records.Select(r => r.Location));
    }

    [Fact]
    public async Task A_view_without_a_count_is_read_all_the_same()
    {
        var options = TestServerOptions(batchSize: 2);
        Server.Insert(options.Database, options.Collection, "{\"x\": 1}", "{\"x\": 2}", "{\"x\": 3}");
        Server.ActsAsView["count"] = true;
        var table = await new MongoDataSource(options).ReadAsync(CancellationToken.None);
        Assert.Equal(["1", "2", "3"], table.Records.Select(r => r.Values[0]!));
        Assert.Contains("count", Server.Commands);
    }

    [Fact]
    public async Task An_empty_collection_is_a_clear_error()
    {
        var options = TestServerOptions();
        Server.Insert(options.Database, options.Collection); // the collection exists with no documents
        var ex = await Assert.ThrowsAsync<PipelineException>(() => new MongoDataSource(options).ReadAsync(CancellationToken.None));
        Assert.Equal($"MongoDB collection networksecurity_tests.{options.Collection} at {options.ConnectionString} is empty (load it with push-data).", ex.Message);
    }

    [Fact]
    public async Task A_missing_database_or_collection_is_a_clear_error()
    {
        var options = Options() with { Database = "no_such_db_" + Guid.NewGuid().ToString("N")[..6] };
        var ex = await Assert.ThrowsAsync<PipelineException>(() => new MongoDataSource(options).ReadAsync(CancellationToken.None));
        Assert.StartsWith($"MongoDB collection {options.Database}.{options.Collection} does not exist at ", ex.Message);
        Assert.Contains("MONGODB_DATABASE and MONGODB_COLLECTION", ex.Message);
    }

    [Fact]
    public async Task Ping_reaches_the_server()
    {
        using var connection = await MongoConnection.OpenAsync(Options(), CancellationToken.None);
        await connection.PingAsync(CancellationToken.None);
        if (RealServer is null)
        {
            Assert.Contains("ping", Server.Commands);
            Assert.Equal("isMaster", Server.Commands.First()); // the driver's handshake over OP_QUERY
        }
    }
}
