using Microsoft.Extensions.Configuration;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// The README's Configuration table gives every setting as an environment variable (Section__Key). A misspelt one named
/// nothing and the setting silently kept its default; like a misspelt --Section:Key option it is now a usage error.
/// Each case is the real program in its own process, since the environment is per process.
/// </summary>
public sealed class EnvironmentSettingTests
{
    [Theory]
    [InlineData("Pipeline__TestFracton", "Pipeline has no 'TestFracton'", "train", "--mode", "gbdt")]
    [InlineData("Pipeline__Training__Mod", "Pipeline:Training has no 'Mod'", "evaluate", "--seeds", "0")]
    [InlineData("Api__MaxRow", "Api has no 'MaxRow'", "--urls", "http://127.0.0.1:0")]
    [InlineData("Tracking__Enable", "Tracking has only 'Enabled'", "--urls", "http://127.0.0.1:0")]
    [InlineData("Pipeline__Training", "Pipeline:Training is a section, not a value", "train", "--mode", "gbdt")] // a value nothing binds
    public void A_misspelt_environment_setting_is_a_usage_error_naming_it(string variable, string reason, params string[] arguments)
    {
        using var dir = new TempDirectory();
        var (code, _, stderr) = ProgramProcess.Run(dir, new() { [variable] = "5" }, arguments);

        Assert.Equal(2, code);
        Assert.StartsWith($"error: environment variable {variable}: unknown setting", stderr);
        Assert.Contains(reason, stderr);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "Artifacts")), "nothing ran");
    }

    [Theory]
    [InlineData("Pipeline__Seed", "PIPELINE__SEED", "export")]
    [InlineData("S3_BUCKET", "s3_bucket", "--urls", "http://127.0.0.1:0")]
    public void One_setting_given_by_two_variables_with_different_values_is_a_usage_error(string first, string second, params string[] arguments)
    {
        // Configuration ignores case: the value that won depended on the order the environment was listed in.
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { [first] = "3", [second] = "5" }, arguments);
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        var names = new[] { first, second }.Order(StringComparer.Ordinal).ToArray();
        Assert.StartsWith($"error: environment variables {names[0]} and {names[1]} are one setting", stderr);

        // The same value twice is one setting said twice: accepted.
        (code, stdout, stderr) = ProgramProcess.Run(dir, new() { [first] = "3", [second] = "3" }, "predict", "--help");
        Assert.True(code == 0, stderr + stdout);
    }

    [Fact]
    public void Settings_spelt_right_in_any_case_and_free_sections_are_accepted()
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new()
        {
            ["API__MAXROWS"] = "5", // configuration keys ignore case
            ["Pipeline__Training__Mode"] = "gbdt",
            ["Replication__LeaseSeconds"] = "30",
            ["Tracking__Enabled"] = "false",
            ["Serilog__MinimumLevel__Default"] = "Warning", // read by Serilog, not checked
            ["Kestrel__Limits__MaxRequestLineSize"] = "8192",
        }, "predict", "--help");

        Assert.True(code == 0, stderr);
        Assert.Contains("--input", stdout);
    }

    [Theory]
    [InlineData("production", "export")]
    [InlineData("STAGING", "--urls", "http://127.0.0.1:0")]
    public void The_environment_s_settings_file_is_read_whatever_the_case_of_its_name(string environment, params string[] arguments)
    {
        // The host takes ASPNETCORE_ENVIRONMENT in any case (production is Production), but asked a case-sensitive file
        // system for appsettings.production.json: appsettings.Production.json was skipped without a word, by the
        // service and the commands alike, where Windows read it. A misspelt key in it shows that it is read now.
        using var dir = new TempDirectory();
        var file = dir.File($"appsettings.{char.ToUpperInvariant(environment[0])}{environment[1..].ToLowerInvariant()}.json", """{"Pipeline": {"Sed": 7}}""");
        var (code, stdout, stderr) = ProgramProcess.Run(arguments, dir.Path, new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = environment, ["Logging__Directory"] = "none", ["Tracking__Enabled"] = "false",
        }, timeoutSeconds: 60);

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.StartsWith($"error: settings file '{file}': unknown setting 'Pipeline:Sed'", stderr);
    }

    [Theory]
    [InlineData("export")]
    [InlineData("--urls", "http://127.0.0.1:0")]
    public void With_both_environment_variables_set_the_commands_read_the_file_the_service_reads(params string[] arguments)
    {
        // The host takes DOTNET_ENVIRONMENT over ASPNETCORE_ENVIRONMENT; the commands took ASPNETCORE_ENVIRONMENT, so
        // with both set train read appsettings.Staging.json where the service read appsettings.Development.json.
        using var dir = new TempDirectory();
        dir.File("appsettings.Staging.json", "{}");
        var file = dir.File("appsettings.Development.json", """{"Pipeline": {"Sed": 7}}""");
        var (code, stdout, stderr) = ProgramProcess.Run(arguments, dir.Path, new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Staging", ["DOTNET_ENVIRONMENT"] = "Development", ["Logging__Directory"] = "none", ["Tracking__Enabled"] = "false",
        }, timeoutSeconds: 60);

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.StartsWith($"error: settings file '{file}': unknown setting 'Pipeline:Sed'", stderr);
    }

    [Fact]
    public void A_command_reads_the_settings_file_in_its_working_folder_as_the_service_does()
    {
        // The service reads the working folder's appsettings.json when there is one; train read only the program's,
        // so it split with seed 42 where the service's own runs used the operator's seed.
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 1200);
        dir.File("appsettings.json", """{"Pipeline": {"Seed": 7, "OverfittingThreshold": 1}}""");
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Tracking__Enabled"] = "false" }, "train", "--data", data, "--mode", "gbdt");
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("(stratified split, seed 7)", stderr); // the log: standard error

        // The environment still wins over the file, and a bad value in it is refused in one line.
        (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Tracking__Enabled"] = "false", ["Pipeline__Seed"] = "9" }, "train", "--data", data, "--mode", "gbdt");
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("(stratified split, seed 9)", stderr);
        dir.File("appsettings.json", """{"Pipeline": {"TestFraction": 0.9}}""");
        (code, stdout, stderr) = ProgramProcess.Run(dir, new(), "train", "--data", data, "--mode", "gbdt");
        Assert.Equal(2, code);
        Assert.Contains("Pipeline:TestFraction: The field TestFraction must be between 0 and 0.5.", stdout + stderr);
    }

    [Theory]
    [InlineData("train", "--mode", "gbdt")] // was an unhandled exception: a stack trace and exit code 134
    [InlineData("--urls", "http://127.0.0.1:0")] // was "Could not parse the JSON file.", naming neither file nor line
    public void A_settings_file_that_is_not_json_is_refused_in_one_line_naming_the_file_and_line(params string[] arguments)
    {
        using var dir = new TempDirectory();
        var settings = dir.File("appsettings.json", "{\n  \"Api\": {\"MaxRows\": 3}\n  \"Pipeline\": {}\n}\n"); // no comma after line 2
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new(), arguments);

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.StartsWith($"error: invalid configuration: Failed to load configuration from file '{settings}'.", stderr);
        // Line and byte counted from 1, as an editor shows them: the reader's own "LineNumber: 2" is the third line,
        // where the '"' stands that should follow a comma.
        Assert.Contains("line 3, byte 3: ", stderr);
        Assert.DoesNotContain("LineNumber", stderr);
        Assert.DoesNotContain("   at ", stderr + stdout);
    }

    [Fact]
    public void A_schema_file_that_does_not_exist_stops_the_service_at_start_naming_the_setting()
    {
        // "error: the service stopped: PipelineException: Schema file 'nope.yaml' does not exist.", exit 1.
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Pipeline__SchemaPath"] = "nope.yaml", ["Logging__Directory"] = "none" }, "--urls", "http://127.0.0.1:0");

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Equal("error: invalid configuration: Pipeline:SchemaPath (--schema): Schema file 'nope.yaml' does not exist. (Pipeline:SchemaPath = 'nope.yaml' from environment variable Pipeline__SchemaPath)", stderr.Trim());
    }

    [Theory]
    [InlineData("train", "--mode", "gbdt")]
    [InlineData("--urls", "http://127.0.0.1:0")]
    public void A_bad_setting_names_the_source_its_value_came_from(params string[] arguments)
    {
        // "Pipeline:Seed: …" alone left the user to search two settings files, the environment and the options for the
        // value that won. Each error now names the source of the value in force, and never shows a secret.
        using var dir = new TempDirectory();
        dir.File("appsettings.json", """{"Pipeline": {"Seed": "file"}}""");
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["PIPELINE__SEED"] = "abc" }, arguments);
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("Pipeline:Seed 'abc' is not a whole number, 0 or more.", stderr);
        Assert.Contains("(Pipeline:Seed = 'abc' from environment variable PIPELINE__SEED)", stderr); // the variable as spelt, not the file it overrides
        Assert.DoesNotContain("'file'", stderr);

        var production = dir.File("appsettings.Production.json", """{"Pipeline": {"TestFraction": 0.9}}""");
        (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Pipeline__Seed"] = "3" }, arguments);
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Contains($"Pipeline:TestFraction: The field TestFraction must be between 0 and 0.5. (Pipeline:TestFraction = '0.9' from settings file '{production}')", stderr);

        (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Pipeline__Seed"] = "3" }, [.. arguments, "--Pipeline:TestFraction=0.1", "--Pipeline__ImputerNeighbors=0"]);
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("Pipeline:ImputerNeighbors: The field ImputerNeighbors must be between 1 and 50. (Pipeline:ImputerNeighbors = '0' from option --Pipeline:ImputerNeighbors)", stderr);

        (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Pipeline__Seed"] = "3", ["Api__TrainApiKey"] = " top-secret-key" }, [.. arguments, "--Pipeline:TestFraction=0.1"]);
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("is blank or has spaces around it", stderr);
        Assert.Contains("(Api:TrainApiKey from environment variable Api__TrainApiKey)", stderr);
        Assert.DoesNotContain("top-secret-key", stdout + stderr);
    }

    [Fact]
    public void Bad_settings_of_the_host_and_the_log_name_their_typed_option_variable_or_file()
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["ASPNETCORE_URLS"] = "ftp://127.0.0.1:1" }, []);
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.EndsWith("is not an http:// or https:// address to listen on. (urls from environment variable ASPNETCORE_URLS)", stderr.Trim());

        var settings = dir.File("appsettings.json", """{"urls": "http://127.0.0.1:abc"}""");
        (code, stdout, stderr) = ProgramProcess.Run(dir, new(), []);
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.EndsWith($"has a port that is not a number from 0 to 65535. (urls from settings file '{settings}')", stderr.Trim());
        File.Delete(settings);

        // A typed option of a command by its own name, and a line break in a value kept on the error's one line.
        (code, stdout, stderr) = ProgramProcess.Run(dir, new(), "export", "--logs", "/proc");
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.EndsWith("(Logging:Directory = '/proc' from option --logs)", stderr.Trim());
        (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Pipeline__Split"] = "foo\nbar" }, "export");
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("Split must be 'stratified' or 'grouped'. (Pipeline:Split = 'foo\\nbar' from environment variable Pipeline__Split)", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("""{"Pipeline": {"TestFracton": 0}}""", "unknown setting 'Pipeline:TestFracton': Pipeline has no 'TestFracton'", "train", "--mode", "gbdt")]
    [InlineData("""{"Pipeline": {"Training": {"Mod": "gbdt"}}}""", "Pipeline:Training has no 'Mod'", "--urls", "http://127.0.0.1:0")]
    [InlineData("""{"Api": {"MaxRow": 5}, "Logging": {"Directory": "none"}}""", "Api has no 'MaxRow'", "--urls", "http://127.0.0.1:0")]
    [InlineData("""{"Pipline": {"Seed": 5}}""", "no section 'Pipline'", "predict", "--input", "x.csv", "--output", "y.csv")]
    [InlineData("""{"AWS_SECRET_ACCES_KEY": "x"}""", "unknown setting 'AWS_SECRET_ACCES_KEY': did you mean 'AWS_SECRET_ACCESS_KEY'?", "export")]
    [InlineData("""{"MaxRows": 5}""", "unknown setting 'MaxRows': did you mean 'Api:MaxRows'?", "--urls", "http://127.0.0.1:0")]
    [InlineData("""{"Pipeline": {"Training": "gbdt", "Seed": 3}, "Api": {}}""", "unknown setting 'Pipeline:Training': Pipeline:Training is a section, not a value", "--urls", "http://127.0.0.1:0")]
    [InlineData("""{"ASPNETCORE_URLS": "http://127.0.0.1:0"}""", "as an option or in a settings file it is 'urls'", "--urls", "http://127.0.0.1:0")]
    public void A_misspelt_key_in_the_settings_file_is_a_usage_error_naming_it(string json, string reason, params string[] arguments)
    {
        // It was kept as a key nothing reads: the run or the service went on with the default, silently.
        using var dir = new TempDirectory();
        var settings = dir.File("appsettings.json", json);
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new(), arguments);

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.StartsWith($"error: settings file '{settings}': unknown setting", stderr);
        Assert.Contains(reason, stderr);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "Artifacts")), "nothing ran");
    }

    [Fact]
    public void A_settings_file_with_an_editor_schema_and_the_usual_host_keys_is_accepted()
    {
        // "$schema" (the JSON schema Visual Studio and VS Code offer for appsettings.json) was refused as an unknown key
        // without a section: neither the service nor any command started with such a file.
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 1200);
        var settings = dir.File("appsettings.Production.json", """
            {
              "$schema": "https://json.schemastore.org/appsettings.json",
              "AllowedHosts": "*",
              "Kestrel": {"EndpointDefaults": {"Protocols": "Http1AndHttp2"}},
              "Serilog": {"Enrich": ["FromLogContext"]},
              "Pipeline": {"OverfittingThreshold": 1}
            }
            """);
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Tracking__Enabled"] = "false" }, "train", "--data", data, "--mode", "gbdt");
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("Promoted model", stdout);

        // The service's check is the same one; a misspelt key beside the schema is still refused.
        Assert.Null(NetworkSecurity.Api.Cli.SettingNames.FileProblem(new ConfigurationBuilder().AddJsonFile(settings).Build()));
        File.WriteAllText(settings, """{"$schema": "https://json.schemastore.org/appsettings.json", "Api": {"MaxRow": 5}}""");
        Assert.Contains("unknown setting 'Api:MaxRow'", NetworkSecurity.Api.Cli.SettingNames.FileProblem(new ConfigurationBuilder().AddJsonFile(settings).Build()));
    }

    [Fact]
    public void Every_variable_of_the_configuration_table_is_a_known_setting_and_the_host_keys_are_accepted()
    {
        // The check of keys without a section knows the variables the product reads: one the README documents but the
        // check did not know would be refused as an option or in a settings file.
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "README.md"));
        var table = readme[readme.IndexOf("## Configuration", StringComparison.Ordinal)..readme.IndexOf("## Experiments", StringComparison.Ordinal)];
        var documented = table.Split('\n').Where(line => line.StartsWith("| `", StringComparison.Ordinal))
            .SelectMany(line => System.Text.RegularExpressions.Regex.Matches(line.Split(" | ")[0], "`([A-Z][A-Z0-9]*_[A-Z0-9_]+)`").Select(m => m.Groups[1].Value))
            .ToArray();
        Assert.Contains("S3_BUCKET", documented);
        Assert.Contains("MONGO_DB_URL", documented);
        foreach (var name in documented)
        {
            Assert.Null(NetworkSecurity.Api.Cli.SettingNames.Problem($"--{name}=x"));
        }

        foreach (var key in new[] { "--urls", "--http_ports=8080", "--contentRoot=/x", "--environment=Development", "--applicationName=x", "--AllowedHosts=*", "--Serilog=", "--Pipeline=", "--s3_bucket=b" })
        {
            Assert.Null(NetworkSecurity.Api.Cli.SettingNames.Problem(key));
        }
    }

    [Fact]
    public void A_command_reads_the_environment_settings_file_as_the_service_does()
    {
        // The web host reads appsettings.{Environment}.json (Production by default) after appsettings.json; the commands
        // read only appsettings.json, so train split with the file's seed where the service's runs used the
        // environment file's, and a misspelt key there stopped the service but not the commands.
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 1200);
        dir.File("appsettings.json", """{"Pipeline": {"Seed": 7, "OverfittingThreshold": 1}}""");
        dir.File("appsettings.Production.json", """{"Pipeline": {"Seed": 11}}""");
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Tracking__Enabled"] = "false" }, "train", "--data", data, "--mode", "gbdt");
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("(stratified split, seed 11)", stderr);

        // ASPNETCORE_ENVIRONMENT picks the file, and its keys are checked as appsettings.json's are.
        dir.File("appsettings.Staging.json", """{"Pipeline": {"Sed": 3}}""");
        (code, _, stderr) = ProgramProcess.Run(dir, new() { ["ASPNETCORE_ENVIRONMENT"] = "Staging" }, "train", "--data", data, "--mode", "gbdt");
        Assert.Equal(2, code);
        Assert.Contains("appsettings.Staging.json': unknown setting 'Pipeline:Sed'", stderr);
    }

    [Fact]
    public void The_service_outside_its_folder_reads_the_environment_settings_file_beside_the_program_too()
    {
        // With no settings files in the working folder the service read the program's appsettings.json but not its
        // appsettings.Production.json, which the commands read: the two ran with other settings.
        using var working = new TempDirectory();
        using var program = new TempDirectory();
        program.File("appsettings.json", """{"Pipeline": {"Seed": 7}}""");
        program.File("appsettings.Production.json", """{"Pipeline": {"Seed": 11}}""");
        Assert.Equal("11", Read(working, program)["Pipeline:Seed"]);

        // Each file is the working folder's when it has one, as for the commands.
        working.File("appsettings.Production.json", """{"Pipeline": {"Seed": 13}}""");
        Assert.Equal("13", Read(working, program)["Pipeline:Seed"]);
        Assert.Equal("appsettings.Production.json", NetworkSecurity.Api.Hosting.HostSettings.EnvironmentSettingsFile(_ => null));
        Assert.Equal("appsettings.Staging.json", NetworkSecurity.Api.Hosting.HostSettings.EnvironmentSettingsFile(name => name == "DOTNET_ENVIRONMENT" ? "Staging" : ""));

        static ConfigurationManager Read(TempDirectory working, TempDirectory program)
        {
            var configuration = new ConfigurationManager();
            foreach (var file in new[] { "appsettings.json", "appsettings.Production.json" })
            {
                configuration.AddJsonFile(new Microsoft.Extensions.FileProviders.PhysicalFileProvider(working.Path), file, optional: true, reloadOnChange: false);
            }

            NetworkSecurity.Api.Hosting.HostSettings.ReadSettingsBesideProgram(configuration, working.Path, program.Path);
            return configuration;
        }
    }

    [Theory]
    [InlineData(false, "train", "--mode", "gbdt")]
    [InlineData(true, "--urls", "http://127.0.0.1:0")]
    public void An_mlflow_file_store_inside_the_final_model_folder_is_refused_before_any_work(bool asFileUri, params string[] arguments)
    {
        // The store's experiment folders and lock file landed in a model version's folder, which then failed its
        // manifest check: the service's fallback version (or, pointed at the live one, the live model) was lost.
        using var dir = new TempDirectory();
        var store = Path.Combine(dir.Path, "final_model", "mlruns");
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["MLFLOW_TRACKING_URI"] = asFileUri ? "file://" + store : store }, arguments);

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("puts the MLflow file store inside the final model folder 'final_model'", stderr + stdout);
        Assert.False(Directory.Exists(store), "nothing was written there");
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "Artifacts")), "nothing ran");

        // With tracking off nothing is written to the store, so the setting does no harm.
        using var off = new TempDirectory();
        var data = PipelineFactory.Sample(off, 1200);
        (code, stdout, stderr) = ProgramProcess.Run(off, new() { ["MLFLOW_TRACKING_URI"] = Path.Combine(off.Path, "final_model", "mlruns"), ["Tracking__Enabled"] = "false", ["Pipeline__OverfittingThreshold"] = "1" }, "train", "--data", data, "--mode", "gbdt");
        Assert.True(code == 0, stdout + stderr);
    }

    [Fact]
    public void Tracking_switched_off_is_said_once_at_Information_not_warned_about()
    {
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 1200);
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Tracking__Enabled"] = "false" },
            "train", "--data", data, "--mode", "gbdt", "--Pipeline:OverfittingThreshold=1");

        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("INF] Run not tracked: experiment tracking is off (Tracking:Enabled=false).", stderr);
        Assert.DoesNotContain("WRN]", stdout + stderr);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "mlruns")), "no MLflow store written");
    }
}
