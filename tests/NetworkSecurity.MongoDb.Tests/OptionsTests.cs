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
        Assert.Equal("MongoOptions { ConnectionString = mongodb+srv://u:***@cluster0.example.net/, Database = networksecurity, Collection = NetworkData, BatchSize = 5000 }", options.ToString()); // a record prints every property
        Assert.Equal(("networksecurity", "NetworkData", 5000), (options.Database, options.Collection, options.BatchSize));
        env["MONGODB_BATCH_SIZE"] = "0";
        var ex = Assert.Throws<ArgumentException>(() => MongoOptions.FromEnvironment(k => env.GetValueOrDefault(k)));
        Assert.Equal("MONGODB_BATCH_SIZE must be a whole number from 1 to 100000, not '0'.", ex.Message);

        // Refused without a URL too: MongoDB unused today does not make a broken value right.
        var alone = Assert.Throws<ArgumentException>(() => MongoOptions.FromEnvironment(k => k == "MONGODB_BATCH_SIZE" ? "0" : null));
        Assert.Equal(ex.Message, alone.Message);
    }

    [Theory]
    [InlineData(" 5000 ")]
    [InlineData("+5000")]
    public void The_batch_size_variable_takes_what_the_batch_size_option_takes(string text)
    {
        // push-data --batch-size " 5000 " (and +5000) was taken, MONGODB_BATCH_SIZE=" 5000 " refused: one setting, two rules.
        var options = MongoOptions.FromEnvironment(k => k switch { "MONGODB_URL" => "mongodb://h/", "MONGODB_BATCH_SIZE" => text, _ => null })!;
        Assert.Equal(5000, options.BatchSize);
    }

    [Fact]
    public void A_collection_name_over_mongodbs_namespace_limit_is_refused_where_it_is_read()
    {
        // The server refused it only at the first push or read.
        var name = new string('n', 240);
        var ex = Assert.Throws<ArgumentException>(() => MongoOptions.FromEnvironment(k => k switch { "MONGODB_URL" => "mongodb://h/", "MONGODB_COLLECTION" => name, _ => null }));
        Assert.Equal($"MONGODB_COLLECTION '{name}' is too long: the namespace networksecurity.{name} has 256 bytes, and MongoDB allows 255.", ex.Message);
        Assert.NotNull(MongoOptions.FromEnvironment(k => k switch { "MONGODB_URL" => "mongodb://h/", "MONGODB_COLLECTION" => name[..^1], _ => null }));
    }

    [Fact]
    public void A_connection_string_or_dns_server_that_cannot_work_is_refused_where_it_is_read_with_the_password_masked()
    {
        // These started the service, whose readiness probe then failed for ever, and failed commands with exit code 1.
        var bad = Assert.Throws<ArgumentException>(() => MongoOptions.FromEnvironment(k => k == "MONGODB_URL" ? "notaurl" : null));
        Assert.StartsWith("MONGODB_URL 'notaurl' is not a MongoDB connection string", bad.Message);
        var seeds = Assert.Throws<ArgumentException>(() => MongoOptions.FromEnvironment(k => k switch { "MONGODB_URL" => "", "MONGO_DB_URL" => "notaurl", _ => null }));
        Assert.StartsWith("MONGO_DB_URL 'notaurl' is not a MongoDB connection string", seeds.Message); // the variable set, not MONGODB_URL
        var secret = Assert.Throws<ArgumentException>(() => MongoOptions.FromEnvironment(k => k == "MONGODB_URL" ? "mongodb://u:s3cr3t@h1/?w=banana&journal=maybe" : null));
        Assert.DoesNotContain("s3cr3t", secret.Message);
        Assert.Contains("u:***@h1", secret.Message);
        var dns = Assert.Throws<ArgumentException>(() => MongoOptions.FromEnvironment(k => k switch { "MONGODB_URL" => "mongodb+srv://c.example.net/", "MONGODB_DNS_SERVER" => "notahost", _ => null }));
        Assert.Equal("MONGODB_DNS_SERVER 'notahost' is not an address like 10.0.0.2:53.", dns.Message);
        Assert.NotNull(MongoOptions.FromEnvironment(k => k switch { "MONGODB_URL" => "mongodb+srv://c.example.net/", "MONGODB_DNS_SERVER" => "127.0.0.1:5353", _ => null }));
        // No port is DNS's own (it was port 0, and every lookup failed).
        Assert.Equal("127.0.0.1:53", MongoOptions.FromEnvironment(k => k switch { "MONGODB_URL" => "mongodb+srv://c.example.net/", "MONGODB_DNS_SERVER" => "127.0.0.1", _ => null })!.DnsServer);
        Assert.Equal("[::1]:53", MongoOptions.FromEnvironment(k => k switch { "MONGODB_URL" => "mongodb+srv://c.example.net/", "MONGODB_DNS_SERVER" => "::1", _ => null })!.DnsServer);

        // Names the server refuses, refused where they are read (they failed at the first push or read).
        foreach (var database in new[] { "my db", "a/b", "a.b", " pad" })
        {
            Assert.StartsWith($"MONGODB_DATABASE '{database}' is not a MongoDB database name", Assert.Throws<ArgumentException>(() => MongoOptions.FromEnvironment(k => k switch { "MONGODB_URL" => "mongodb://h/", "MONGODB_DATABASE" => database, _ => null })).Message);
        }

        Assert.StartsWith("MONGODB_COLLECTION 'system.users' is not a MongoDB collection name", Assert.Throws<ArgumentException>(() => MongoOptions.FromEnvironment(k => k switch { "MONGODB_URL" => "mongodb://h/", "MONGODB_COLLECTION" => "system.users", _ => null })).Message);
    }

    [Fact]
    public void A_database_name_over_63_bytes_or_a_collection_name_starting_with_a_dot_is_refused_where_it_is_read()
    {
        // MongoDB counts a database name's 63 in bytes and refuses a collection name starting with a dot: both passed,
        // and the server refused them only at the first push or read.
        MongoOptions? Read(string database, string collection) =>
            MongoOptions.FromEnvironment(k => k switch { "MONGODB_URL" => "mongodb://h/", "MONGODB_DATABASE" => database, "MONGODB_COLLECTION" => collection, _ => null });
        var accented = new string('é', 32); // 32 characters, 64 bytes
        Assert.Equal($"MONGODB_DATABASE '{accented}' is not a MongoDB database name (at most 63 bytes in UTF-8, none of / \\ . \" $ or spaces).",
            Assert.Throws<ArgumentException>(() => Read(accented, "c")).Message);
        Assert.NotNull(Read(accented[..31] + "e", "c")); // 63 bytes
        foreach (var collection in new[] { ".hidden", "." })
        {
            Assert.Equal($"MONGODB_COLLECTION '{collection}' is not a MongoDB collection name (no $, no spaces around it, not starting with a dot, not system.*).",
                Assert.Throws<ArgumentException>(() => Read("db", collection)).Message);
        }

        Assert.NotNull(Read("db", "a.")); // a dot elsewhere is allowed
    }

    [Theory]
    [InlineData("mongodb://u:s3cr3t@h1/?authMechanism=BOGUS", "mongodb://u:***@h1/?authMechanism=BOGUS")]
    [InlineData("mongodb://u:s3cr3t@h1/?maxPoolSize=-1", "mongodb://u:***@h1/?maxPoolSize=-1")]
    [InlineData("mongodb://u:s3cr3t@h1/?authMechanism=MONGODB-X509", "mongodb://u:***@h1/?authMechanism=MONGODB-X509")]
    public void A_connection_string_whose_options_the_driver_refuses_is_refused_where_it_is_read(string uri, string shown)
    {
        // These parsed, so the service started and stayed unready for ever ("Unsupported MongoAuthenticationMechanism
        // BOGUS.", naming no setting), and push-data failed only after announcing the push.
        var ex = Assert.Throws<ArgumentException>(() => MongoOptions.FromEnvironment(k => k == "MONGODB_URL" ? uri : null));
        Assert.StartsWith($"MONGODB_URL '{shown}' is not a MongoDB connection string: ", ex.Message);
        Assert.DoesNotContain("s3cr3t", ex.Message);
    }

    [Theory]
    [InlineData("mongodb://root:Ab3/x+Y=z@mongo:27017/?authSource=admin")]
    [InlineData("mongodb://root:Ab3@x:Y@mongo:27017/?authSource=admin")]
    [InlineData("mongodb://root:Ab3%x@mongo:27017/?authSource=admin")]
    public void A_password_with_a_character_a_url_reserves_is_named_as_the_cause(string uri)
    {
        // As docker-compose.yml builds MONGODB_URL from MONGO_ROOT_PASSWORD: the driver said only "is not valid".
        var ex = Assert.Throws<ArgumentException>(() => MongoOptions.FromEnvironment(k => k == "MONGODB_URL" ? uri : null));
        Assert.Contains("Its password holds a character a URL reserves", ex.Message);
        Assert.DoesNotContain("Ab3", ex.Message);
        Assert.DoesNotContain("a URL reserves", Assert.Throws<ArgumentException>(() => MongoOptions.FromEnvironment(k => k == "MONGODB_URL" ? "mongodb://u:s3cr3t@h1/?maxPoolSize=-1" : null)).Message);
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
        // A short password is masked in the text around the connection string, never inside the redacted one.
        var admin = new MongoOptions { ConnectionString = "mongodb://admin:admin@127.0.0.1:1/?authSource=admin" };
        Assert.Equal("at mongodb://admin:***@127.0.0.1:1/?authSource=admin: user *** refused", admin.Mask("at mongodb://admin:admin@127.0.0.1:1/?authSource=admin: user admin refused"));
        var one = new MongoOptions { ConnectionString = "mongodb://u:1@127.0.0.1:1/?serverSelectionTimeoutMS=1000" };
        Assert.Equal("at mongodb://u:***@127.0.0.1:1/?serverSelectionTimeoutMS=1000 failed", one.Mask("at mongodb://u:1@127.0.0.1:1/?serverSelectionTimeoutMS=1000 failed"));
        var tls = new MongoOptions { ConnectionString = "mongodb://h1/?tlsCertificateKeyFilePassword=k3y%21pw" };
        Assert.Equal("bad key *** / ***", tls.Mask("bad key k3y%21pw / k3y!pw"));
    }
}
