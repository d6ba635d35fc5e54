namespace NetworkSecurity.MongoDb.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void Options_read_the_seed_variables_and_the_batch_size()
    {
        Assert.Null(MongoOptions.FromEnvironment(_ => null));
        var env = new Dictionary<string, string> { ["MONGO_DB_URL"] = "mongodb+srv://u:p@cluster0.example.net/", ["MONGODB_BATCH_SIZE"] = "5000" };
        var options = MongoOptions.FromEnvironment(k => env.GetValueOrDefault(k))!;
        Assert.Equal("mongodb+srv://u:p@cluster0.example.net/", options.ConnectionString);
        Assert.Equal("mongodb+srv://u:***@cluster0.example.net/", options.Redacted);
        Assert.Equal(("networksecurity", "NetworkData", 5000), (options.Database, options.Collection, options.BatchSize));
        env["MONGODB_BATCH_SIZE"] = "0";
        var ex = Assert.Throws<NetworkSecurity.Pipeline.PipelineException>(() => MongoOptions.FromEnvironment(k => env.GetValueOrDefault(k)));
        Assert.Equal("MONGODB_BATCH_SIZE must be a whole number from 1 to 100000, not '0'.", ex.Message);
    }

    [Theory]
    [InlineData("mongodb://u:p%40ss@h1:27017,h2/?authSource=admin", "mongodb://u:***@h1:27017,h2/?authSource=admin")]
    [InlineData("mongodb://u:pa/ss@h1", "mongodb://u:***@h1")]
    [InlineData("mongodb://u:pa@ss@h1/db", "mongodb://u:***@h1/db")]
    [InlineData("mongodb://h1/?appName=a@b", "mongodb://h1/?appName=a@b")]
    [InlineData("mongodb://onlyuser@h1", "mongodb://onlyuser@h1")]
    [InlineData("mongodb://h1/?tls=true&tlsCertificateKeyFilePassword=k3y&appName=x", "mongodb://h1/?tls=true&tlsCertificateKeyFilePassword=***&appName=x")]
    [InlineData("mongodb://h1/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:t0k", "mongodb://h1/?authMechanism=MONGODB-AWS&authMechanismProperties=***")]
    public void Redact_masks_the_password(string uri, string expected) => Assert.Equal(expected, MongoOptions.Redact(uri));

    [Fact]
    public void Mask_removes_the_password_as_written_and_decoded_from_any_text()
    {
        var options = new MongoOptions { ConnectionString = "mongodb://u:p%40ss-word@h1/" };
        Assert.Equal("x mongodb://u:***@h1/ y *** z ***", options.Mask("x mongodb://u:p%40ss-word@h1/ y p%40ss-word z p@ss-word"));
        var tls = new MongoOptions { ConnectionString = "mongodb://h1/?tlsCertificateKeyFilePassword=k3y%21pw" };
        Assert.Equal("bad key *** / ***", tls.Mask("bad key k3y%21pw / k3y!pw"));
    }
}
