using System.Text.RegularExpressions;
using NetworkSecurity.Pipeline.Tests;
using YamlDotNet.RepresentationModel;

namespace NetworkSecurity.Storage.Tests.Replication;

/// <summary>
/// deploy/kubernetes parses, has every object a platform team needs, and agrees with the service: probe paths (also
/// requested from a real instance in <see cref="ReplicaTests"/>), ports, configuration keys and secret names.
/// </summary>
public sealed partial class DeployManifestTests
{
    private readonly DeployManifests _manifests = DeployManifests.Load();

    [Fact]
    public void Every_manifest_parses_and_the_kustomization_lists_every_object_but_the_secret_example()
    {
        var kinds = _manifests.Documents.Select(d => DeployManifests.Text(d.Document, "kind")).ToHashSet();
        foreach (var kind in new[] { "Deployment", "Service", "ConfigMap", "Secret", "CronJob", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Kustomization" })
        {
            Assert.Contains(kind, kinds);
        }

        var resources = ((YamlSequenceNode)DeployManifests.Node(_manifests.Single("Kustomization"), "resources")).Children.Select(n => ((YamlScalarNode)n).Value).ToHashSet();
        var files = _manifests.Documents.Select(d => d.File).Where(f => f is not "kustomization.yaml" and not "secret.example.yaml").ToHashSet();
        Assert.Equal(files.Order(), resources.Order());
    }

    [Fact]
    public void The_orchestrators_wait_for_the_services_own_30_s_shutdown_before_they_kill_it()
    {
        // docker compose gave the API its default 10 s after SIGTERM, Kubernetes exactly the host's 30 s: a shutdown during
        // training was SIGKILLed while the stopped run was being ended in MLflow (15 s, +5 s) or the model uploaded (10 s
        // grace), and the run stayed RUNNING there.
        const int HostShutdownSeconds = 30; // HostOptions.ShutdownTimeout's default, which the service keeps
        var pod = (YamlMappingNode)DeployManifests.Node(_manifests.Single("Deployment"), "spec", "template", "spec");
        Assert.True(int.Parse(DeployManifests.Text(pod, "terminationGracePeriodSeconds"), System.Globalization.CultureInfo.InvariantCulture) > HostShutdownSeconds);

        var compose = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(TestPaths.RepositoryRoot, "docker-compose.yml")))
        {
            compose.Load(reader);
        }

        var grace = DeployManifests.Text((YamlMappingNode)compose.Documents[0].RootNode, "services", "api", "stop_grace_period");
        Assert.Matches("^[0-9]+s$", grace);
        Assert.True(int.Parse(grace[..^1], System.Globalization.CultureInfo.InvariantCulture) > HostShutdownSeconds, $"stop_grace_period {grace}");
    }

    [Fact]
    public void The_probes_and_ports_match_the_service()
    {
        var probes = _manifests.Probes;
        Assert.Contains(probes, p => p.Kind == "readinessProbe" && p.Path == "/health/ready");
        Assert.Contains(probes, p => p.Kind == "livenessProbe" && p.Path == "/health/live");
        Assert.All(probes, p => Assert.Equal("http", p.Port));

        // The container port is the one the image listens on (Dockerfile: ASPNETCORE_URLS and EXPOSE).
        var container = _manifests.ApiContainer;
        var port = (YamlMappingNode)((YamlSequenceNode)DeployManifests.Node(container, "ports")).Children.Single();
        Assert.Equal("http", DeployManifests.Text(port, "name"));
        var containerPort = DeployManifests.Text(port, "containerPort");
        var dockerfile = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "Dockerfile"));
        Assert.Equal(containerPort, ExposePattern().Match(dockerfile).Groups[1].Value);
        Assert.Contains($"ASPNETCORE_URLS=http://+:{containerPort}", dockerfile);
        var urls = ((YamlSequenceNode)DeployManifests.Node(container, "env")).Children.Cast<YamlMappingNode>().Single(e => DeployManifests.Text(e, "name") == "ASPNETCORE_URLS");
        Assert.Equal($"http://+:{containerPort}", DeployManifests.Text(urls, "value"));

        // The Service sends its traffic to that port, and selects the Deployment's pods.
        var service = _manifests.Single("Service");
        var servicePort = (YamlMappingNode)((YamlSequenceNode)DeployManifests.Node(service, "spec", "ports")).Children.Single();
        Assert.Equal("http", DeployManifests.Text(servicePort, "targetPort"));
        Assert.Equal(DeployManifests.Text(_manifests.Single("Deployment"), "spec", "template", "metadata", "labels", "app"), DeployManifests.Text(service, "spec", "selector", "app"));
    }

    [Fact]
    public void Configuration_secrets_autoscaling_and_scheduled_training_refer_to_what_exists()
    {
        var deployment = _manifests.Single("Deployment");
        var container = _manifests.ApiContainer;
        var sources = ((YamlSequenceNode)DeployManifests.Node(container, "envFrom")).Children.Cast<YamlMappingNode>().ToArray();
        var configMap = DeployManifests.Text(sources.Single(s => s.Children.ContainsKey("configMapRef")), "configMapRef", "name");
        var secret = DeployManifests.Text(sources.Single(s => s.Children.ContainsKey("secretRef")), "secretRef", "name");
        Assert.Equal(DeployManifests.Text(_manifests.Single("ConfigMap"), "metadata", "name"), configMap);
        Assert.Equal(DeployManifests.Text(_manifests.Single("Secret"), "metadata", "name"), secret);

        // Every ConfigMap key is a setting the service reads (an environment variable it documents or a config key).
        var appsettings = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "src", "NetworkSecurity.Api", "appsettings.json"));
        var envExample = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, ".env.example"));
        foreach (var key in ((YamlMappingNode)DeployManifests.Node(_manifests.Single("ConfigMap"), "data")).Children.Keys.Select(k => ((YamlScalarNode)k).Value!))
        {
            var known = key.Contains("__", StringComparison.Ordinal)
                ? key.Split("__").All(part => appsettings.Contains($"\"{part}\"", StringComparison.Ordinal))
                : envExample.Contains(key + "=", StringComparison.Ordinal);
            Assert.True(known, $"ConfigMap key {key} is not a setting of the service");
        }

        var hpa = _manifests.Single("HorizontalPodAutoscaler");
        Assert.Equal(DeployManifests.Text(deployment, "metadata", "name"), DeployManifests.Text(hpa, "spec", "scaleTargetRef", "name"));
        Assert.True(int.Parse(DeployManifests.Text(hpa, "spec", "minReplicas"), System.Globalization.CultureInfo.InvariantCulture) >= 2);

        // The CronJob asks a replica to train through the Service (so the training lease applies) with the API key.
        var cron = _manifests.Single("CronJob");
        Assert.Equal("Forbid", DeployManifests.Text(cron, "spec", "concurrencyPolicy"));
        var job = (YamlMappingNode)((YamlSequenceNode)DeployManifests.Node(cron, "spec", "jobTemplate", "spec", "template", "spec", "containers")).Children.Single();
        var env = ((YamlSequenceNode)DeployManifests.Node(job, "env")).Children.Cast<YamlMappingNode>().ToArray();
        Assert.Equal($"http://{DeployManifests.Text(_manifests.Single("Service"), "metadata", "name")}/train", DeployManifests.Text(env.Single(e => DeployManifests.Text(e, "name") == "TRAIN_URL"), "value"));
        Assert.Equal(secret, DeployManifests.Text(env.Single(e => DeployManifests.Text(e, "name") == "NETWORKSECURITY_API_KEY"), "valueFrom", "secretKeyRef", "name"));
    }

    [Fact]
    public void Env_example_names_every_setting_of_the_readme_configuration_table()
    {
        // README: ".env.example lists and explains the variables a deployment sets (this table has every setting)";
        // Tracking__Enabled, Replication__LeaseSettleMilliseconds, the schema and grid paths were in the table only.
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "README.md"));
        var start = readme.IndexOf("| variable | meaning | default |", StringComparison.Ordinal);
        var table = readme[start..readme.IndexOf("\n\n", start, StringComparison.Ordinal)];
        var envExample = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, ".env.example"));
        var names = table.Split('\n').Skip(2)
            .SelectMany(row => BacktickedPattern().Matches(row.Split('|')[1]).Select(m => m.Groups[1].Value))
            .Where(name => !name.StartsWith('-') && !name.StartsWith('_') && !name.Contains('=', StringComparison.Ordinal)) // options, "/ _PASSWORD" shorthands, examples
            .ToArray();
        Assert.True(names.Length > 40, $"the table was not read: {names.Length} names");
        var missing = names.Where(name => !Regex.IsMatch(envExample, $@"(?<![A-Za-z_]){Regex.Escape(name)}(?![A-Za-z_])")).ToArray();
        Assert.True(missing.Length == 0, ".env.example does not name: " + string.Join(", ", missing));
    }

    [Fact]
    public void Env_example_states_the_automatic_training_row_limit_the_pipeline_applies()
    {
        // .env.example still said "at 2,048 bytes a record" once the limit became 320 MiB for the process plus 3,072 bytes
        // a record: an operator sizing a container from it allowed half again as many rows as the service accepts.
        var envExample = File.ReadAllLines(Path.Combine(TestPaths.RepositoryRoot, ".env.example"));
        var setting = Array.FindIndex(envExample, l => l.StartsWith("Pipeline__MaxTrainingRows=", StringComparison.Ordinal));
        Assert.True(setting > 0, ".env.example does not set Pipeline__MaxTrainingRows");
        var comment = string.Join(' ', envExample[..setting].Reverse().TakeWhile(l => l.StartsWith('#')).Reverse());
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        Assert.Contains(string.Format(culture, "{0:N0} bytes a record", NetworkSecurity.Pipeline.Configuration.PipelineOptions.BytesPerTrainingRow), comment);
        Assert.Contains(string.Format(culture, "{0:N0} MiB", NetworkSecurity.Pipeline.Configuration.PipelineOptions.TrainingBaseBytes >> 20), comment);
    }

    [GeneratedRegex("`([A-Za-z_][A-Za-z0-9_.:-]*)`")]
    private static partial Regex BacktickedPattern();

    [GeneratedRegex(@"^EXPOSE\s+(\d+)", RegexOptions.Multiline)]
    private static partial Regex ExposePattern();
}
