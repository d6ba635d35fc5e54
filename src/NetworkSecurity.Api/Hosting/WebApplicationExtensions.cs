using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using NetworkSecurity.Api.Endpoints;
using NetworkSecurity.Api.Models;
using NetworkSecurity.Api.Replication;
using NetworkSecurity.Api.Training;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Prediction;
using NetworkSecurity.Pipeline.Schema;
using Serilog;

namespace NetworkSecurity.Api.Hosting;

/// <summary>Everything the web host needs, in two calls: services on the builder, middleware and endpoints on the app.</summary>
public static class WebApplicationExtensions
{
    public const string DefaultUrl = "http://localhost:8080";

    public static WebApplicationBuilder AddNetworkSecurityApi(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        // ASPNETCORE_HTTPS_PORTS alone counts too: the default address replaced it, and the service served http on 8080.
        if (string.IsNullOrEmpty(configuration["urls"]) && string.IsNullOrEmpty(configuration["http_ports"]) && string.IsNullOrEmpty(configuration["https_ports"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        // A log folder that cannot be made: refuse to start rather than log to the console only.
        if (LoggingSetup.PrepareDirectory(configuration) is { } logProblem)
        {
            throw new OptionsValidationException("Logging:Directory", typeof(string), [logProblem]);
        }

        if (LoggingSetup.SettingsProblem(configuration) is { } serilogProblem)
        {
            throw new OptionsValidationException("Serilog", typeof(string), [serilogProblem]);
        }

        // Serilog reads its settings when the host is built, so tests and command-line overrides apply. The host keeps its
        // own logger (preserveStaticLogger): otherwise Serilog makes it the process-wide Log.Logger, writes every host's
        // log through whichever host set that last, and closes that one when any host stops, so with two hosts in one
        // process (the tests) the one still running loses its log lines.
        builder.Services.AddSerilog((services, logger) => LoggingSetup.Configure(logger, services.GetRequiredService<IConfiguration>(), fileName: null), preserveStaticLogger: true);

        builder.Services.AddApiOptions(configuration);
        builder.Services.AddOptions<KestrelServerOptions>()
            .Configure<IOptions<ApiOptions>>((kestrel, api) =>
            {
                // The larger of the two body limits (each endpoint enforces its own), with room for multipart framing.
                kestrel.Limits.MaxRequestBodySize = Math.Max(api.Value.MaxUploadBytes, api.Value.MaxJsonBytes) + (1024 * 1024);
                kestrel.AddServerHeader = false; // no banner naming the server software
            });

        builder.Services.AddTrainingPipeline(configuration);
        builder.Services.AddSingleton(sp => SchemaLoader.Load(sp.GetRequiredService<PipelineOptions>().SchemaPath));
        builder.Services.AddSingleton(sp =>
        {
            var api = sp.GetRequiredService<IOptions<ApiOptions>>().Value;
            var csv = new CsvLimits(api.MaxColumns, api.MaxHeaderLength, api.MaxLineLength, api.MaxCellLength);
            return new PhishingPredictor(sp.GetRequiredService<DataSchema>(), new PredictionLimits(csv, api.MaxMissingFraction));
        });
        builder.Services.AddSingleton(sp => new JsonRecordParser(sp.GetRequiredService<DataSchema>(), sp.GetRequiredService<IOptions<ApiOptions>>().Value.MaxMissingFraction));
        builder.Services.AddSingleton<LiveModel>();
        builder.Services.AddSingleton<UploadSlots>();
        builder.Services.AddSingleton<TrainingJobQueue>();
        // Before the worker: hosted services stop in reverse order, so the job a shutdown stopped is shared as failed.
        builder.Services.AddSingleton<SharedJobs>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SharedJobs>());
        builder.Services.AddHostedService<TrainingWorker>();
        builder.Services.AddModelReplication(configuration);

        builder.Services.AddSingleton<IProblemDetailsWriter, HtmlProblemWriter>(); // before the built-in one: a browser's refusals of POST /predict as a page
        builder.Services.AddProblemDetails(problems => problems.CustomizeProblemDetails = Problems.CompleteRoutingProblem);
        builder.Services.AddSingleton<IProblemDetailsWriter, AnyAcceptProblemWriter>(); // after the built-in one
        // Malformed JSON bodies are the client's fault: answer 400 ProblemDetails, also in Development.
        builder.Services.Configure<RouteHandlerOptions>(routing => routing.ThrowOnBadRequest = false);
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        });
        builder.Services.AddHealthChecks()
            .AddCheck<ModelReadyHealthCheck>("model", tags: ["ready"])
            .AddCheck<MongoReadyHealthCheck>("mongodb", tags: ["ready"]);
        builder.Services.AddSingleton<MongoConnections>();
        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddSwaggerGen(swagger =>
        {
            swagger.OperationFilter<PredictionOpenApi>();
            swagger.OperationFilter<ServiceOpenApi>();
            swagger.OperationFilter<ResponseOpenApi>();
            swagger.DocumentFilter<ServiceOpenApi>();
            swagger.SchemaFilter<TrainingJobOpenApi>();
            swagger.SchemaFilter<ModelCardOpenApi>();
        });
        // The served schema's feature count, not the bundled one's 30.
        builder.Services.AddOptions<Swashbuckle.AspNetCore.SwaggerGen.SwaggerGenOptions>().Configure<DataSchema>((swagger, schema) => swagger.SwaggerDoc("v1", new()
        {
            Title = "NetworkSecurity API",
            Version = "v1",
            Description = $"Detects phishing websites from {schema.Features.Count} URL, domain and page features. Upload a CSV or send JSON records to get a verdict and a phishing probability per site; retrain the model in the background.",
        }));
        return builder;
    }

    public static WebApplication UseNetworkSecurityApi(this WebApplication app)
    {
        var apiKey = app.Services.GetRequiredService<IOptions<ApiOptions>>().Value.TrainApiKey;
        if (string.IsNullOrEmpty(apiKey))
        {
            // Open by default, as the seed service was; said once at start, since a run costs CPU and disk each time.
            app.Logger.LogWarning("POST /train takes no API key: anyone who can reach this service can start training runs. Set NETWORKSECURITY_API_KEY to require one.");
        }
        else if (ApiOptions.IsPlaceholderKey(apiKey))
        {
            app.Logger.LogWarning("POST /train takes a placeholder API key ('change-me…', as in .env.example and deploy/kubernetes/secret.example.yaml), which anyone can read: set NETWORKSECURITY_API_KEY to a long random value of your own.");
        }

        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // Kestrel's own limits (e.g. body too large) carry their status; anything else is a 500 without details.
            StatusCodeSelector = exception => exception is Microsoft.AspNetCore.Http.BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
        app.UseSerilogRequestLogging(logging =>
        {
            // This host's own logger: without it the middleware writes through Serilog's static Log.Logger, which the
            // most recently built host replaced (two hosts in one process, as in the tests, swapped request logs).
            // The path is the client's (decoded: %0A is a line break): escaped, so that it cannot forge a log line.
            logging.Logger = app.Services.GetRequiredService<Serilog.ILogger>().ForContext(new ControlCharacterEscaper());
            logging.MessageTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.000} ms (model {ModelVersion})";
            // One line per request, but only failures and slow requests at Information: at thousands of requests a second
            // a line each would flood the console. Probes answer 503 until a model is ready: an answer, not an error.
            var slow = app.Services.GetRequiredService<IOptions<ApiOptions>>().Value.SlowRequestMilliseconds;
            logging.GetLevel = (http, elapsed, exception) =>
                http.Request.Path.StartsWithSegments("/health") ? Serilog.Events.LogEventLevel.Debug
                : http.RequestAborted.IsCancellationRequested ? Serilog.Events.LogEventLevel.Information
                : exception is not null || (http.Response.StatusCode >= 500 && http.Response.StatusCode != 503) ? Serilog.Events.LogEventLevel.Error
                // 503 is a state the answer explains (no model yet, scoring budget spent, lease store away), not a fault.
                : http.Response.StatusCode == 503 ? Serilog.Events.LogEventLevel.Warning
                : http.Response.StatusCode >= 400 || elapsed >= slow ? Serilog.Events.LogEventLevel.Information
                : Serilog.Events.LogEventLevel.Debug;
            logging.EnrichDiagnosticContext = (context, http) =>
                context.Set("ModelVersion", http.Items.TryGetValue(PredictionApi.ModelVersionHeader, out var version) ? version : "-");
        });
        app.UseClientAbortsAsAnswers();
        app.UseSecurityHeaders();
        app.UseHeadAsGet();
        app.UseRouting(); // here, not first: HEAD requests are matched as the GET they became

        // Swagger's middlewares match every request's path (one by template, one by regex): only /swagger requests
        // reach them, so the scoring endpoints do not pay for the documentation.
        app.MapWhen(http => http.Request.Path.StartsWithSegments("/swagger"), swagger => swagger
            .UseSwagger()
            .UseSwaggerUI(ui =>
            {
                ui.RoutePrefix = "swagger";
                ui.DocumentTitle = "NetworkSecurity API";
            }));

        app.MapHomePage();
        app.MapPredictionApi();
        app.MapTrainingApi();
        app.MapModelApi();
        // GET and HEAD only, as every other route: a probe answers no other method (405 with Allow).
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).WithTags("Health").WithMetadata(new HttpMethodMetadata(["GET", "HEAD"]));
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready"), ResponseWriter = HealthReportWriter.WriteAsync })
            .WithTags("Health").WithMetadata(new HttpMethodMetadata(["GET", "HEAD"]));
        return app;
    }
}
