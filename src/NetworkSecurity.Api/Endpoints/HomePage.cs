using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using NetworkSecurity.Api.Hosting;
using NetworkSecurity.Api.Models;
using NetworkSecurity.Api.Replication;
using NetworkSecurity.Api.Training;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>GET /: upload a CSV, retrain, see the live model's card (metrics, confusion matrix, ROC curve) and the last training job.</summary>
public static class HomePage
{
    public static IEndpointRouteBuilder MapHomePage(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/", async (LiveModel live, TrainingJobQueue jobs, SharedJobs shared, IOptions<ApiOptions> options, HttpContext context) =>
            {
                // The most recent job of all replicas, as GET /train answers (behind a load balancer the page after a
                // Retrain may come from another replica); this replica's own while the shared store does not answer.
                var local = jobs.Latest?.Status;
                var latest = await shared.LatestAsync(local, context.RequestAborted).ConfigureAwait(false);
                return TypedResults.Content(Render(live.Current, latest.Error is null ? latest.Status : local, !string.IsNullOrEmpty(options.Value.TrainApiKey), options.Value.TrainOnStartup, live.Schema), "text/html; charset=utf-8");
            })
            .WithName("HomePage")
            .WithTags("Pages")
            .WithSummary("The web page: upload a CSV, retrain, see the model card")
            .WithDescription("For a browser: a form that uploads a CSV to POST /predict (\"Predict\", and \"Predict and explain\" with ?explain=3, or the feature count when the schema has fewer, when the live model can explain its verdicts) and shows the verdicts as a table; a \"Retrain now\" button that sends POST /train (with the API key typed in the page when one is set; it needs JavaScript) and follows the job; the live model's card (test metrics, confusion matrix, ROC curve, feature importance) and the most recent training job, as GET /train gives it.")
            .Produces<string>(StatusCodes.Status200OK, "text/html");
        return routes;
    }

    /// <param name="schema">The served schema: the page names its feature count and label column (the bundled one's when null).</param>
    public static string Render(ModelBundle? model, TrainingJobStatus? job, bool apiKeyRequired, bool trainsOnStartup = true, DataSchema? schema = null) => HtmlLayout.Page("NetworkSecurity", html =>
    {
        // The schema decides, not the bundled 30 features: a two-feature schema's "Predict and explain" asked for 3 (a 400).
        var features = schema?.Features.Count ?? 30;
        var explainTop = Math.Min(3, features);
        var upload = string.Create(CultureInfo.InvariantCulture, $"A CSV with the {features} feature columns (any order; a {HtmlLayout.Encode(schema?.Target.Name ?? "Result")} column is ignored).");
        // "Predict and explain" only when the live model can explain its verdicts; otherwise say why not.
        var cannotExplain = model is null ? null : NetworkSecurity.Learning.Explanation.ModelExplanation.UnavailableReason(model.Classifier);
        html.Append("""
            <section><h2>Check websites</h2>
            <form id="predict-form" action="/predict" method="post" enctype="multipart/form-data">
            <label for="csv-file">CSV file of website records</label> <input id="csv-file" type="file" name="file" accept=".csv,text/csv" required> <input type="submit" id="predict-submit" value="Predict">
            """);
        if (cannotExplain is null)
        {
            // A space between the buttons, as between the other inputs (a raw string ends without one): they touched.
            html.Append(' ').Append(CultureInfo.InvariantCulture, $"""
                <input type="submit" id="explain-submit" formaction="/predict?explain={explainTop}" value="Predict and explain">
                </form><p class="muted">{upload} The answer is a table of verdicts; "Predict and explain" adds why: {TopWords[explainTop]} that weighed most (slower on large files).</p></section>
                """);
        }
        else
        {
            html.Append("</form><p class=\"muted\">").Append(upload).Append(" The answer is a table of verdicts. <span id=\"no-explain\">Explanations are not available for the live model: ")
                .Append(HtmlLayout.Encode(cannotExplain)).Append("</span></p></section>");
        }

        html.Append("<section><h2>Training</h2>");
        // Labelled: a placeholder alone is no name for a screen reader, and it is gone once a key is typed.
        if (apiKeyRequired)
        {
            html.Append("<label for=\"api-key\">API key</label> <input id=\"api-key\" type=\"password\" placeholder=\"API key\" autocomplete=\"off\"> ");
        }

        // The job's state is rewritten as the run goes: polite, so a screen reader reads its progress and outcome.
        html.Append("<button id=\"train\" type=\"button\">Retrain now</button> <span id=\"job\" aria-live=\"polite\">");
        AppendJob(html, job);
        html.Append("</span>");
        // The button is the script's: without JavaScript it did nothing, without a word.
        html.Append(apiKeyRequired
            ? "<noscript><p id=\"no-script\" class=\"muted\">Retraining from this page needs JavaScript. Without it, send POST /train with the key in the X-Api-Key header (curl -X POST -H 'X-Api-Key: …' …/train) and follow GET /train.</p></noscript>"
            : "<noscript><p id=\"no-script\" class=\"muted\">Retraining from this page needs JavaScript. Without it, send POST /train (curl -X POST …/train) and follow GET /train.</p></noscript>");
        html.Append("</section>");

        html.Append("<section><h2>Live model</h2>");
        if (model is null)
        {
            html.Append(job is null && !trainsOnStartup
                ? "<p id=\"no-model\">No model is loaded, and none is being trained: this service does not train one by itself (Api:TrainOnStartup is off). Press Retrain now.</p>"
                // A run that failed or was refused by the quality gate: nothing starts by itself any more.
                : job?.WhyNoModel() is not null
                    ? "<p id=\"no-model\">No model is loaded: the last training run did not produce one (see Training above). Fix the cause and press Retrain now.</p>"
                    : "<p id=\"no-model\">No model is loaded yet. The first training run starts automatically; this page shows its progress.</p>");
        }
        else
        {
            AppendCard(html, model.Card);
        }

        html.Append("</section>");
        html.Append(Script);
    });

    private static readonly string[] TopWords = ["", "the feature", "the two features", "the three features"];

    // The JSON answers' enum names (snake_case, lower case).
    private static string ApiName(string name) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(name);

    private static void AppendJob(StringBuilder html, TrainingJobStatus? job)
    {
        if (job is null)
        {
            html.Append("<span class=\"muted\">No training run since the service started.</span>");
            return;
        }

        // State and stage as the API names them (the script shows those once it polls): the page said "Succeeded" and
        // "Training" when loaded, "succeeded" and "training" a second later.
        var state = ApiName(job.State.ToString());
        html.Append(CultureInfo.InvariantCulture, $"<span data-job=\"{HtmlLayout.Encode(job.Id)}\" data-state=\"{state}\">Last run: <b>{state}</b>");
        if (job.State is TrainingJobState.Queued or TrainingJobState.Running)
        {
            html.Append(CultureInfo.InvariantCulture, $" — {ApiName(job.Stage.ToString())} <progress max=\"1\" value=\"{job.Progress:0.###}\"></progress>");
        }
        else if (job.Outcome is { } outcome)
        {
            html.Append(CultureInfo.InvariantCulture, $" — {HtmlLayout.Encode(outcome.Learner)}, {(outcome.TestF1 is { } f1 ? $"test F1 {f1:0.0000}" : "no hold-out")}, ")
                .Append(outcome.Promoted ? "promoted" : "not promoted: " + HtmlLayout.Encode(outcome.NotPromotedReason));
        }
        else if (job.Error is not null)
        {
            html.Append(" — <span class=\"error\">").Append(HtmlLayout.Encode(job.Error)).Append("</span>");
        }

        // "promoted" alone hid that the other replicas never got the model (its upload failed), or that another replica
        // may have trained at the same time (the lease lost): the API said so, the page did not.
        if (job.Publication is { State: not PublicationState.LocalOnly } publication)
        {
            html.Append(CultureInfo.InvariantCulture, $"; publication: <span data-publication=\"{ApiName(publication.State.ToString())}\"{(publication.State is PublicationState.Retrying or PublicationState.Failed ? " class=\"error\"" : "")}>{ApiName(publication.State.ToString())}");
            if (publication.State is PublicationState.Retrying or PublicationState.Failed)
            {
                html.Append(" (").Append(HtmlLayout.Encode(publication.Message)).Append(')');
            }

            html.Append("</span>");
        }

        if (job.LeaseWarning is { } warning)
        {
            html.Append(" — <span class=\"error\" id=\"lease-warning\">").Append(HtmlLayout.Encode(warning)).Append("</span>");
        }

        html.Append("</span>");
    }

    private static void AppendCard(StringBuilder html, ModelCard card)
    {
        html.Append(CultureInfo.InvariantCulture, $"<p>Version <b id=\"model-version\">{HtmlLayout.Encode(card.Version)}</b> · trained {card.TrainedAt:yyyy-MM-dd HH:mm} UTC · {HtmlLayout.Encode(card.Learner)}")
            .Append(CultureInfo.InvariantCulture, $" · {card.TrainRows:N0} training rows, {card.TestRows:N0} test rows ({HtmlLayout.Encode(card.Split)} split)</p>");
        if (card.Test is not { } views)
        {
            // Trained on every row (--test-fraction 0): no test metrics to show, the cross-validated F1 instead.
            html.Append(CultureInfo.InvariantCulture, $"<div class=\"grid\"><p id=\"no-holdout\">No hold-out: trained on every labelled row; cross-validated F1 (legitimate) <b>{(card.CvF1 is { } cv ? cv.ToString("0.0000", CultureInfo.InvariantCulture) : "—")}</b>, train F1 {card.Train.Legitimate.F1.ToString("0.0000", CultureInfo.InvariantCulture)}.</p>");
            AppendImportance(html, card.Importance, "training", card.TrainRows);
            html.Append("</div>");
            return;
        }

        var test = views.Legitimate;
        html.Append("<div class=\"grid\"><table class=\"metrics\"><tr><th>test metric</th><th>legitimate = positive</th><th>phishing = positive</th></tr>");
        Row(html, "F1", test.F1, views.Phishing.F1);
        Row(html, "precision", test.Precision, views.Phishing.Precision);
        Row(html, "recall", test.Recall, views.Phishing.Recall);
        Row(html, "accuracy", test.Accuracy, views.Phishing.Accuracy);
        Row(html, "ROC AUC", test.RocAuc, views.Phishing.RocAuc);
        html.Append("</table>");

        // Confusion matrix on the test rows, phishing first (the security view).
        var p = views.Phishing;
        html.Append("<table class=\"metrics\" id=\"confusion\"><tr><td></td><th>predicted phishing</th><th>predicted legitimate</th></tr>")
            .Append(CultureInfo.InvariantCulture, $"<tr><th>actual phishing</th><td>{p.TruePositives}</td><td>{p.FalseNegatives}</td></tr>")
            .Append(CultureInfo.InvariantCulture, $"<tr><th>actual legitimate</th><td>{p.FalsePositives}</td><td>{p.TrueNegatives}</td></tr></table>");
        AppendRoc(html, card.TestRocCurve, test.RocAuc);
        AppendImportance(html, card.Importance, "test", card.TestRows);
        html.Append("</div>");
    }

    private static void Row(StringBuilder html, string name, double legitimate, double phishing) =>
        html.Append(CultureInfo.InvariantCulture, $"<tr><th>{name}</th><td>{legitimate:0.0000}</td><td>{phishing:0.0000}</td></tr>");

    private static void AppendRoc(StringBuilder html, IReadOnlyList<RocPoint> curve, double auc)
    {
        const int size = 220;
        const int pad = 30;
        html.Append(CultureInfo.InvariantCulture, $"<svg id=\"roc\" width=\"{size + pad + 10}\" height=\"{size + pad + 10}\" viewBox=\"0 0 {size + pad + 10} {size + pad + 10}\" role=\"img\" aria-label=\"ROC curve\">")
            .Append(CultureInfo.InvariantCulture, $"<rect x=\"{pad}\" y=\"10\" width=\"{size}\" height=\"{size}\" fill=\"#fff\" stroke=\"#98a2b3\"/>")
            .Append(CultureInfo.InvariantCulture, $"<line x1=\"{pad}\" y1=\"{size + 10}\" x2=\"{pad + size}\" y2=\"10\" stroke=\"#d0d5dd\" stroke-dasharray=\"4\"/>");
        if (curve.Count > 1)
        {
            html.Append("<polyline fill=\"none\" stroke=\"#2f6fed\" stroke-width=\"2\" points=\"");
            foreach (var point in curve)
            {
                html.Append(CultureInfo.InvariantCulture, $"{pad + (point.FalsePositiveRate * size):0.#},{10 + size - (point.TruePositiveRate * size):0.#} ");
            }

            html.Append("\"/>");
        }

        html.Append(CultureInfo.InvariantCulture, $"<text x=\"{pad + size / 2}\" y=\"{size + pad + 5}\" font-size=\"11\" text-anchor=\"middle\">false positive rate</text>")
            .Append(CultureInfo.InvariantCulture, $"<text x=\"10\" y=\"{10 + size / 2}\" font-size=\"11\" text-anchor=\"middle\" transform=\"rotate(-90 10 {10 + size / 2})\">true positive rate</text>")
            .Append(CultureInfo.InvariantCulture, $"<text x=\"{pad + size - 6}\" y=\"{size}\" font-size=\"12\" text-anchor=\"end\">AUC {auc:0.0000}</text></svg>");
    }

    /// <summary>Global importance as a horizontal bar chart (SVG), top 15 features, beside the ROC curve.</summary>
    // rows: which rows the importance was measured on ("test", or "training" without a hold-out); total: how many there are.
    private static void AppendImportance(StringBuilder html, GlobalImportance? importance, string rows, int total)
    {
        if (importance is null)
        {
            return;
        }

        if (importance.Features.Count == 0)
        {
            html.Append("<p id=\"importance-unavailable\" class=\"muted\">No feature importance: ").Append(HtmlLayout.Encode(importance.UnavailableReason)).Append("</p>");
            return;
        }

        const int label = 170;
        const int barWidth = 160;
        const int rowHeight = 16;
        var shown = importance.Features.Take(15).ToArray();
        var max = Math.Max(shown[0].MeanAbsContribution, 1e-12);
        // The caption on two lines: on one ("… on 463 test rows (log_odds)") it ran past the chart's edge and was cut.
        const int top = 36;
        var height = top + 8 + (shown.Length * rowHeight);
        // "on 463 test rows" read as if the test split had 463 rows: the rows the sampled distinct vectors stand for, of all.
        html.Append(CultureInfo.InvariantCulture, $"<svg id=\"importance\" width=\"{label + barWidth + 50}\" height=\"{height}\" viewBox=\"0 0 {label + barWidth + 50} {height}\" role=\"img\" aria-label=\"Feature importance\">")
            .Append(CultureInfo.InvariantCulture, $"<text x=\"0\" y=\"12\" font-size=\"12\">feature importance ({HtmlLayout.Encode(importance.Scale)})</text>")
            .Append(CultureInfo.InvariantCulture, $"<text x=\"0\" y=\"27\" font-size=\"11\">mean |contribution| on {importance.Rows:N0} of {total:N0} {rows} rows</text>");
        for (var i = 0; i < shown.Length; i++)
        {
            var y = top + (i * rowHeight);
            var width = shown[i].MeanAbsContribution / max * barWidth;
            html.Append(CultureInfo.InvariantCulture, $"<g class=\"bar\" data-feature=\"{HtmlLayout.Encode(shown[i].Feature)}\">")
                .Append(CultureInfo.InvariantCulture, $"<text x=\"{label - 4}\" y=\"{y + 11}\" font-size=\"11\" text-anchor=\"end\">{HtmlLayout.Encode(shown[i].Feature)}</text>")
                .Append(CultureInfo.InvariantCulture, $"<rect x=\"{label}\" y=\"{y + 2}\" width=\"{Math.Max(width, 1):0.#}\" height=\"{rowHeight - 4}\" fill=\"#2f6fed\"/>")
                .Append(CultureInfo.InvariantCulture, $"<text x=\"{label + width + 4:0.#}\" y=\"{y + 11}\" font-size=\"10\">{shown[i].MeanAbsContribution:0.000}</text></g>");
        }

        html.Append("</svg>");
    }

    private const string Script = """
        <script>
        (function () {
          const jobSpan = document.getElementById('job');
          // Built as text, never as HTML: an error or a reason may hold anything (a path, a column name).
          function show(s) {
            jobSpan.textContent = 'Last run: ';
            const state = document.createElement('b');
            state.textContent = s.state;
            jobSpan.append(state);
            if (s.state === 'queued' || s.state === 'running') {
              const bar = document.createElement('progress');
              bar.max = 1;
              bar.value = s.progress;
              jobSpan.append(' — ' + s.stage + ' ', bar);
            } else if (s.outcome) {
              const o = s.outcome;
              jobSpan.append(' — ' + o.learner + ', ' + (typeof o.test_f1 === 'number' ? 'test F1 ' + o.test_f1.toFixed(4) : 'no hold-out')
                + (o.promoted ? ', promoted' : ', not promoted: ' + (o.not_promoted_reason || 'no reason given')));
            } else if (s.error) {
              const error = document.createElement('span');
              error.className = 'error';
              error.textContent = s.error;
              jobSpan.append(' — ', error);
            }
            if (s.publication && s.publication.state !== 'local_only') {
              const p = s.publication, bad = p.state === 'retrying' || p.state === 'failed';
              const span = document.createElement('span');
              span.dataset.publication = p.state;
              if (bad) span.className = 'error';
              span.textContent = p.state + (bad ? ' (' + p.message + ')' : '');
              jobSpan.append('; publication: ', span);
            }
            if (s.lease_warning) {
              const warning = document.createElement('span');
              warning.className = 'error';
              warning.textContent = s.lease_warning;
              jobSpan.append(' — ', warning);
            }
          }
          // A refusal's reason: its problem's detail or title ('' when the answer is not JSON).
          async function why(r) {
            try { const problem = await r.json(); return problem.detail || problem.title || ''; } catch (e) { return ''; }
          }
          async function poll(id) {
            let r;
            // The service away for a moment (a restart): ask again, and hear then whether it still knows the job.
            try { r = await fetch('/train/' + encodeURIComponent(id)); } catch (e) { setTimeout(() => poll(id), 5000); return; }
            if (!r.ok) {
              // The page stopped here without a word and went on showing the job as running (a restart forgets jobs).
              const reason = await why(r);
              jobSpan.textContent = 'Lost track of training job ' + id + ' (HTTP ' + r.status + ')' + (reason ? ': ' + reason : '');
              return;
            }
            const s = await r.json();
            show(s);
            if (s.state === 'queued' || s.state === 'running') setTimeout(() => poll(id), 1000);
            else if (s.outcome && s.outcome.promoted) location.reload();
          }
          document.getElementById('train').addEventListener('click', async () => {
            const key = document.getElementById('api-key');
            const headers = key && key.value ? { 'X-Api-Key': key.value } : {};
            let r;
            // The service away (a restart, the network): say so; the click did nothing visible.
            try { r = await fetch('/train', { method: 'POST', headers }); }
            catch (e) { jobSpan.textContent = 'Could not start training: the service did not answer (' + e.message + ')'; return; }
            if (r.status === 202) { const s = await r.json(); show(s); poll(s.id); }
            else {
              // Say why (a wrong or missing key, another replica training, the lease store away), not just the status.
              const reason = await why(r);
              jobSpan.textContent = 'Could not start training (HTTP ' + r.status + ')' + (reason ? ': ' + reason : '');
            }
          });
          const current = document.querySelector('[data-job]');
          if (current && (current.dataset.state === 'queued' || current.dataset.state === 'running')) poll(current.dataset.job);
        })();
        </script>
        """;
}
