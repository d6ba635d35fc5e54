using Microsoft.Playwright;
using Xunit.Abstractions;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// End to end in a real browser: Debian's Chromium (installed by scripts/prereqs/chromium.sh), driven by Playwright,
/// against the app on a real Kestrel port on 127.0.0.1.
/// </summary>
[Collection(TrainedModelCollection.Name)]
public sealed class BrowserTests(TrainedModelFixture model, ITestOutputHelper output)
{
    /// <summary>The app on a real Kestrel port on 127.0.0.1; its address.</summary>
    private static Uri Serve(ApiFactory factory)
    {
        factory.UseLoopbackKestrel();
        factory.StartServer();
        return factory.CreateClient().BaseAddress!;
    }

    /// <summary>Debian's Chromium, headless, driven by Playwright; closed with its driver on disposal.</summary>
    private sealed class HeadlessChromium : IAsyncDisposable
    {
        private const string Executable = "/usr/bin/chromium";
        private readonly IPlaywright _playwright;
        private readonly IBrowser _browser;

        private HeadlessChromium(IPlaywright playwright, IBrowser browser) => (_playwright, _browser) = (playwright, browser);

        public static async Task<HeadlessChromium> LaunchAsync()
        {
            Assert.True(File.Exists(Executable), "Chromium is missing: run scripts/prereqs/chromium.sh (scripts/test.sh does).");
            var playwright = await Playwright.CreateAsync();
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = Executable,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            });
            return new HeadlessChromium(playwright, browser);
        }

        public Task<IPage> NewPageAsync(BrowserNewPageOptions? options = null) => _browser.NewPageAsync(options);

        public Task<IBrowserContext> NewContextAsync(BrowserNewContextOptions? options = null) => _browser.NewContextAsync(options);

        public async ValueTask DisposeAsync()
        {
            await _browser.DisposeAsync();
            _playwright.Dispose();
        }
    }

    [Fact]
    public async Task Swagger_ui_try_it_out_uploads_a_csv_to_predict_and_gets_verdicts()
    {
        // The OpenAPI document once described the upload as a bare binary body: Swagger UI then sent an empty form and
        // every try answered 400 "no field named 'file'".
        using var dir = new TempDirectory();
        var csv = dir.File("five.csv", string.Join('\n', File.ReadLines(TestPaths.DataFile).Take(6)));
        using var factory = model.CreateFactory();
        var address = Serve(factory);

        await using var browser = await HeadlessChromium.LaunchAsync();
        var page = await browser.NewPageAsync();
        await page.GotoAsync(new Uri(address, "/swagger/index.html").ToString());
        var operation = page.Locator("#operations-Prediction-PredictCsv");
        await operation.Locator(".opblock-summary").ClickAsync();
        await operation.Locator("button.try-out__btn").ClickAsync();
        await operation.Locator("input[type=file]").SetInputFilesAsync(csv);
        var answer = page.WaitForResponseAsync(r => r.Url.Contains("/predict", StringComparison.Ordinal) && r.Request.Method == "POST", new PageWaitForResponseOptions { Timeout = 30_000 });
        await operation.Locator("button.execute").ClickAsync();
        var response = await answer;
        Assert.True(response.Status == 200, $"{response.Status}: {await response.TextAsync()}");
        Assert.Contains("multipart/form-data", response.Request.Headers["content-type"]);
        Assert.Equal(5, System.Text.RegularExpressions.Regex.Matches(await response.TextAsync(), "<td class=\"key verdict\">").Count); // one verdict cell per record
    }

    [Fact]
    public async Task Home_page_upload_of_the_data_set_shows_the_prediction_table()
    {
        using var factory = model.CreateFactory();
        var address = Serve(factory);
        Assert.Equal("127.0.0.1", address.Host is "localhost" ? "127.0.0.1" : address.Host);

        await using var browser = await HeadlessChromium.LaunchAsync();
        // A laptop screen: the verdicts must be visible without scrolling.
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1366, Height = 768 } });
        // The page runs under a strict Content-Security-Policy: any blocked inline script or style would show up here.
        await page.AddInitScriptAsync("window.__cspViolations = []; document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));");
        var consoleErrors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                consoleErrors.Add(message.Text);
            }
        };
        var response = await page.GotoAsync(address.ToString());
        Assert.Contains("default-src 'none'", await response!.HeaderValueAsync("content-security-policy"));
        Assert.Equal(model.Version, await page.TextContentAsync("#model-version"));
        Assert.True(await page.IsVisibleAsync("#roc"));
        Assert.Equal("rgb(29, 36, 51)", await page.EvalOnSelectorAsync<string>("header", "e => getComputedStyle(e).backgroundColor")); // the style sheet applied
        // The inline script runs and may fetch same-origin: the retrain button's POST is answered here, so no training starts.
        await page.RouteAsync("**/train", route => route.FulfillAsync(new RouteFulfillOptions { Status = 409, Body = "{}" }));
        await page.ClickAsync("#train");
        await page.WaitForSelectorAsync("#job:has-text('HTTP 409')", new PageWaitForSelectorOptions { Timeout = 10_000 });
        await page.UnrouteAsync("**/train");
        Assert.Empty(await page.EvaluateAsync<string[]>("window.__cspViolations"));
        Assert.True(await page.IsVisibleAsync("#importance"));
        Assert.Equal(15, await page.Locator("#importance g.bar").CountAsync());

        await page.SetInputFilesAsync("input[type=file]", TestPaths.DataFile);
        await page.ClickAsync("#explain-submit");
        await page.WaitForURLAsync("**/predict?explain=3", new PageWaitForURLOptions { WaitUntil = WaitUntilState.Load, Timeout = 180_000 });

        var rows = await page.Locator("#predictions tbody tr").CountAsync();
        Assert.Equal(11055, rows);
        var phishing = int.Parse((await page.TextContentAsync("#phishing-count"))!.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(phishing, await page.Locator("#predictions tbody tr.phishing").CountAsync());
        Assert.InRange(phishing, 4500, 5300); // the data set has 4,898 phishing sites
        Assert.Equal("rgb(253, 232, 232)", await page.EvalOnSelectorAsync<string>("#predictions tbody tr.phishing td", "e => getComputedStyle(e).backgroundColor"));
        Assert.Empty(await page.EvaluateAsync<string[]>("window.__cspViolations"));
        Assert.DoesNotContain(consoleErrors, e => e.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase)); // (the routed 409 and /favicon.ico 404 are expected errors)

        Assert.Equal("11,055", await page.TextContentAsync("#record-count"));

        // Verdict, probability and row number come first and are on screen; the 30 features follow to the right.
        var headers = await page.Locator("#predictions thead th").AllTextContentsAsync();
        Assert.Equal(["#", "verdict", "phishing_probability", "why", "predicted_column"], headers.Take(5));
        foreach (var cell in new[] { "#predictions tbody tr:first-child td.verdict", "#predictions tbody tr:first-child td.prob", "#summary" })
        {
            var box = await page.Locator(cell).BoundingBoxAsync();
            Assert.NotNull(box);
            Assert.True(box.X >= 0 && box.X + box.Width <= 1366 && box.Y >= 0 && box.Y + box.Height <= 768, $"{cell} is off-screen at {box.X},{box.Y}");
        }

        var screenshots = Path.Combine(TestPaths.RepositoryRoot, "TestResults", "screenshots");
        Directory.CreateDirectory(screenshots);
        var screenshot = Path.Combine(screenshots, "predictions-1366x768.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot });
        output.WriteLine($"Screenshot of the results page at 1366x768: {screenshot}");
        Assert.True(new FileInfo(screenshot).Length > 10_000);

        // The "why" column: the three features that weighed most, in words, e.g. "SSLfinal_State = -1 (+2.1)".
        Assert.Equal("why", (await page.TextContentAsync("#predictions thead th.why"))?.Trim());
        var why = await page.TextContentAsync("#predictions tbody tr.phishing td.why");
        Assert.Matches(@"^\w+ = -?\d \([+-]\d+\.\d+\); \w+ = -?\d \([+-]\d+\.\d+\); \w+ = -?\d \([+-]\d+\.\d+\)$", why);
    }

    [Fact]
    public async Task On_a_phone_the_results_show_the_whole_probability_and_room_to_scroll_the_other_columns()
    {
        // At 375 px the three sticky columns (#, verdict, probability: 296 px) were wider than the table's box (285 px):
        // the probability was cut and the why column and the input columns could never be scrolled into view.
        using var dir = new TempDirectory();
        var csv = dir.File("three.csv", string.Join('\n', File.ReadLines(TestPaths.DataFile).Take(4)));
        using var factory = model.CreateFactory();
        var address = Serve(factory);

        await using var browser = await HeadlessChromium.LaunchAsync();
        foreach (var width in new[] { 320, 375 })
        {
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = 667 } });
            await page.GotoAsync(address.ToString());
            await page.SetInputFilesAsync("input[type=file]", csv);
            await page.ClickAsync("#explain-submit");
            await page.WaitForURLAsync("**/predict?explain=3", new PageWaitForURLOptions { WaitUntil = WaitUntilState.Load, Timeout = 60_000 });

            Assert.Equal(width, await page.EvaluateAsync<int>("document.documentElement.scrollWidth")); // no page-wide sideways scrolling
            var table = await page.Locator(".scroll.results").BoundingBoxAsync();
            var probability = await page.Locator("#predictions tbody tr:first-child td.prob").BoundingBoxAsync();
            Assert.NotNull(table);
            Assert.NotNull(probability);
            Assert.True(probability.X + probability.Width <= table.X + table.Width, $"{width} px: the probability ends at {probability.X + probability.Width}, the table's box at {table.X + table.Width}");
            Assert.Matches(@"^\d\.\d{4}$", await page.TextContentAsync("#predictions tbody tr:first-child td.prob"));

            // Scrolled sideways, the why column shows beside the sticky columns, wide enough to read.
            await page.EvaluateAsync("document.querySelector('.scroll.results').scrollLeft = document.querySelector('#predictions td.why').offsetLeft - 200");
            var room = table.X + table.Width - (probability.X + probability.Width);
            Assert.True(room >= 90, $"{width} px: {room} px left for the scrolled columns");
            var why = await page.Locator("#predictions tbody tr:first-child td.why").BoundingBoxAsync();
            Assert.NotNull(why);
            Assert.True(why.X + why.Width > probability.X + probability.Width + 50, $"{width} px: the why column is hidden under the sticky columns ({why.X}+{why.Width})");
            // Each explanation starts where its cell does: right-aligned, a shorter one began far to the right of the column's start.
            var indents = await page.EvaluateAsync<double[]>("[...document.querySelectorAll('#predictions td.why')].map(td => { const r = document.createRange(); r.selectNodeContents(td); return r.getBoundingClientRect().left - td.getBoundingClientRect().left; })");
            Assert.Equal(3, indents.Length);
            Assert.All(indents, indent => Assert.InRange(indent, 0, 10));
            await page.CloseAsync();
        }
    }

    [Fact]
    public async Task The_home_page_says_why_training_could_not_start_or_why_the_run_failed()
    {
        // The page said only "Could not start training (HTTP 401)", and of a run that failed while it watched, "failed":
        // the reason came with the answer but was not shown. The answers are routed here, so no training starts.
        using var factory = model.CreateFactory();
        var address = Serve(factory);

        await using var browser = await HeadlessChromium.LaunchAsync();
        var page = await OpenRecordingCspViolationsAsync(browser, address);

        await page.RouteAsync("**/train", route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 401,
            ContentType = "application/problem+json",
            Body = """{"title":"Wrong API key","status":401,"detail":"The X-Api-Key header does not hold the server's API key; training was not started."}""",
        }));
        await page.ClickAsync("#train");
        await page.WaitForSelectorAsync("#job:has-text('HTTP 401')", new PageWaitForSelectorOptions { Timeout = 10_000 });
        Assert.Equal("Could not start training (HTTP 401): The X-Api-Key header does not hold the server's API key; training was not started.", await page.TextContentAsync("#job"));
        await page.UnrouteAsync("**/train");

        // No answer at all (the service restarting): the click showed nothing.
        await page.RouteAsync("**/train", route => route.AbortAsync("connectionrefused"));
        await page.ClickAsync("#train");
        await page.WaitForSelectorAsync("#job:has-text('did not answer')", new PageWaitForSelectorOptions { Timeout = 10_000 });
        Assert.StartsWith("Could not start training: the service did not answer (", await page.TextContentAsync("#job"));
        await page.UnrouteAsync("**/train");

        // Accepted, then failed: the error is shown, as text (markup in it stays text).
        const string Job = "0123456789abcdef0123456789abcdef";
        await AcceptTrainingAsync(page, $$"""{"id":"{{Job}}","state":"queued","stage":"queued","progress":0}""");
        await page.RouteAsync($"**/train/{Job}", route => route.FulfillAsync(new RouteFulfillOptions
        {
            ContentType = "application/json",
            Body = $$"""{"id":"{{Job}}","state":"failed","stage":"validation","progress":0.2,"error":"data.csv, line 1: missing column(s): <b>URL_Length</b>"}""",
        }));
        await page.ClickAsync("#train");
        await page.WaitForSelectorAsync("#job .error", new PageWaitForSelectorOptions { Timeout = 10_000 });
        Assert.Equal("Last run: failed — data.csv, line 1: missing column(s): <b>URL_Length</b>", await page.TextContentAsync("#job"));
        Assert.Equal(1, await page.Locator("#job b").CountAsync()); // the state only: the error's markup is not rendered
        Assert.Empty(await page.EvaluateAsync<string[]>("window.__cspViolations"));
    }

    [Fact]
    public async Task The_home_page_says_when_the_service_no_longer_knows_the_job_it_follows()
    {
        // The service restarted during the run: GET /train/<id> answered 404, and the page stopped polling without a
        // word, showing the job as running for good. The answers are routed here, so no training starts.
        using var factory = model.CreateFactory();
        var address = Serve(factory);

        await using var browser = await HeadlessChromium.LaunchAsync();
        var page = await OpenRecordingCspViolationsAsync(browser, address);
        const string Job = "fedcba9876543210fedcba9876543210";
        await AcceptTrainingAsync(page, $$"""{"id":"{{Job}}","state":"running","stage":"training","progress":0.4}""");
        await page.RouteAsync($"**/train/{Job}", route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 404,
            ContentType = "application/problem+json",
            Body = $$"""{"title":"No such job","status":404,"detail":"No training job '{{Job}}' on this replica: a restart forgets them."}""",
        }));
        await page.ClickAsync("#train");
        await page.WaitForSelectorAsync("#job:has-text('HTTP 404')", new PageWaitForSelectorOptions { Timeout = 10_000 });
        Assert.Equal($"Lost track of training job {Job} (HTTP 404): No training job '{Job}' on this replica: a restart forgets them.", await page.TextContentAsync("#job"));
        Assert.Empty(await page.EvaluateAsync<string[]>("window.__cspViolations"));
    }

    [Fact]
    public async Task Every_feature_explained_wraps_in_a_why_column_whose_heading_is_on_screen()
    {
        // With ?explain=all each why cell was one line of 30 features: a column 5,285 px wide, its heading centred 2,600 px
        // to the right of the screen's edge and the input columns beyond it.
        using var dir = new TempDirectory();
        var csv = dir.File("three.csv", string.Join('\n', File.ReadLines(TestPaths.DataFile).Take(4)));
        using var factory = model.CreateFactory();
        var address = Serve(factory);

        await using var browser = await HeadlessChromium.LaunchAsync();
        foreach (var width in new[] { 375, 1366 })
        {
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = 768 } });
            await page.GotoAsync(address.ToString());
            await page.SetInputFilesAsync("input[type=file]", csv);
            // The page's own form, asking for every feature (its button asks for three).
            await page.EvalOnSelectorAsync("#explain-submit", "b => b.setAttribute('formaction', '/predict?explain=all')");
            await page.ClickAsync("#explain-submit");
            await page.WaitForURLAsync("**/predict?explain=all", new PageWaitForURLOptions { WaitUntil = WaitUntilState.Load, Timeout = 60_000 });

            Assert.Equal(30, (await page.TextContentAsync("#predictions tbody tr:first-child td.why"))!.Split("; ").Length);
            var why = await page.Locator("#predictions tbody tr:first-child td.why").BoundingBoxAsync();
            Assert.NotNull(why);
            Assert.True(why.Width <= 600, $"{width} px: the why column is {why.Width} px wide");
            var heading = await page.EvaluateAsync<double>("(() => { const r = document.createRange(); r.selectNodeContents(document.querySelector('#predictions th.why')); return r.getBoundingClientRect().right; })()");
            Assert.True(heading <= width, $"{width} px: the why heading ends at {heading} px");
            await page.CloseAsync();
        }
    }

    [Fact]
    public async Task The_model_charts_show_their_labels_whole_on_a_phone_and_a_laptop()
    {
        // The importance chart's caption ("feature importance: mean |contribution| on 463 test rows (log_odds)") ran past
        // the chart's right edge and was cut at every screen width.
        using var factory = model.CreateFactory();
        var address = Serve(factory);

        await using var browser = await HeadlessChromium.LaunchAsync();
        foreach (var width in new[] { 375, 1366 })
        {
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = 800 } });
            await page.GotoAsync(address.ToString());
            foreach (var chart in new[] { "#importance", "#roc" })
            {
                // Each label's box against its chart's box (an SVG clips what lies outside it).
                var cut = await page.EvaluateAsync<string[]>(
                    "id => { const svg = document.querySelector(id); const box = svg.getBoundingClientRect(); return [...svg.querySelectorAll('text')].filter(t => { const b = t.getBoundingClientRect(); return b.left < box.left - 0.5 || b.right > box.right + 0.5 || b.top < box.top - 0.5 || b.bottom > box.bottom + 0.5; }).map(t => t.textContent); }",
                    chart);
                Assert.True(cut.Length == 0, $"{width} px, {chart}: cut labels: {string.Join(" | ", cut)}");
            }

            Assert.Contains("test rows", await page.TextContentAsync("#importance"));
            await page.CloseAsync();
        }
    }

    [Fact]
    public async Task A_refused_upload_with_a_long_file_name_or_value_stays_within_the_screen()
    {
        // A file name or a quoted cell without a break (300 x's, 3,000 A's) ran out of the problem page's box: the page
        // scrolled sideways to 2,922 px on a 1,366 px screen, the rest of the sentence off it.
        var header = File.ReadLines(TestPaths.DataFile).First();
        var record = File.ReadLines(TestPaths.DataFile).Skip(1).First().Split(',');
        record[3] = new string('A', 3000);
        var csv = System.Text.Encoding.UTF8.GetBytes(header + "\n" + string.Join(',', record) + "\n");
        using var factory = model.CreateFactory();
        var address = Serve(factory);

        await using var browser = await HeadlessChromium.LaunchAsync();
        foreach (var width in new[] { 375, 1366 })
        {
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = 700 } });
            await page.GotoAsync(address.ToString());
            await page.SetInputFilesAsync("input[type=file]", new FilePayload { Name = new string('x', 300) + ".csv", MimeType = "text/csv", Buffer = csv });
            await page.ClickAsync("#predict-submit");
            await page.WaitForSelectorAsync("#problem-detail", new PageWaitForSelectorOptions { Timeout = 60_000 });
            Assert.Contains("is not a number", await page.TextContentAsync("#problem-detail"));
            Assert.Equal(width, await page.EvaluateAsync<int>("document.documentElement.scrollWidth"));
            var detail = await page.Locator("#problem-detail").BoundingBoxAsync();
            var section = await page.Locator("#problem").BoundingBoxAsync();
            Assert.NotNull(detail);
            Assert.NotNull(section);
            Assert.True(detail.X + detail.Width <= section.X + section.Width, $"{width} px: the detail ends at {detail.X + detail.Width}, its section at {section.X + section.Width}");
            await page.CloseAsync();
        }
    }

    [Fact]
    public async Task The_home_page_names_its_inputs_and_says_that_retraining_needs_javascript()
    {
        // The file input was announced as "Choose File" and the API key box had a placeholder only (no label for a screen
        // reader, gone once typed in); the confusion matrix had an empty column header; and with JavaScript off "Retrain
        // now" did nothing, without a word.
        using var factory = model.CreateFactory(new Dictionary<string, string?> { ["Api:TrainApiKey"] = "a-key-for-the-page-test" });
        var address = Serve(factory);

        await using var browser = await HeadlessChromium.LaunchAsync();
        var page = await browser.NewPageAsync();
        await page.GotoAsync(address.ToString());
        Assert.Equal("file", await page.GetByLabel("CSV file of website records").GetAttributeAsync("type"));
        Assert.Equal("password", await page.GetByLabel("API key").GetAttributeAsync("type"));
        Assert.Equal(0, await page.Locator("th:empty").CountAsync());
        Assert.Equal("polite", await page.GetAttributeAsync("#job", "aria-live")); // the run's progress is announced
        Assert.False(await page.IsVisibleAsync("#no-script"));
        // The two buttons touched: nothing stood between "Predict" and "Predict and explain".
        var predict = (await page.Locator("#predict-submit").BoundingBoxAsync())!;
        var explain = (await page.Locator("#explain-submit").BoundingBoxAsync())!;
        Assert.True(explain.X - (predict.X + predict.Width) >= 4 || explain.Y >= predict.Y + predict.Height, $"the buttons are {explain.X - (predict.X + predict.Width)} px apart");

        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { JavaScriptEnabled = false });
        var noScript = await context.NewPageAsync();
        await noScript.GotoAsync(address.ToString());
        Assert.True(await noScript.IsVisibleAsync("#no-script"));
        Assert.Contains("needs JavaScript", await noScript.TextContentAsync("#no-script"));
        Assert.Contains("POST /train", await noScript.TextContentAsync("#no-script"));
    }

    // The home page, with every Content-Security-Policy violation recorded in window.__cspViolations.
    private static async Task<IPage> OpenRecordingCspViolationsAsync(HeadlessChromium browser, Uri address)
    {
        var page = await browser.NewPageAsync();
        await page.AddInitScriptAsync("window.__cspViolations = []; document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));");
        await page.GotoAsync(address.ToString());
        return page;
    }

    // POST /train answered 202 with the given job, without starting a run.
    private static Task AcceptTrainingAsync(IPage page, string job) =>
        page.RouteAsync("**/train", route => route.FulfillAsync(new RouteFulfillOptions { Status = 202, ContentType = "application/json", Body = job }));
}
