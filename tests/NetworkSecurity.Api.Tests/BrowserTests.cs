using Microsoft.Playwright;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// End to end in a real browser: Debian's Chromium (installed by scripts/prereqs/chromium.sh), driven by Playwright,
/// against the app on a real Kestrel port on 127.0.0.1.
/// </summary>
[Collection(TrainedModelCollection.Name)]
public sealed class BrowserTests(TrainedModelFixture model)
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task Home_page_upload_of_the_data_set_shows_the_prediction_table()
    {
        Assert.True(File.Exists(Chromium), "Chromium is missing: run scripts/prereqs/chromium.sh (scripts/test.sh does).");
        using var factory = model.CreateFactory();
        factory.UseKestrel(0);
        factory.StartServer();
        var address = factory.CreateClient().BaseAddress!;
        Assert.Equal("127.0.0.1", address.Host is "localhost" ? "127.0.0.1" : address.Host);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(address.ToString());
        Assert.Equal(model.Version, await page.TextContentAsync("#model-version"));
        Assert.True(await page.IsVisibleAsync("#roc"));
        Assert.True(await page.IsVisibleAsync("#importance"));
        Assert.Equal(15, await page.Locator("#importance g.bar").CountAsync());

        await page.SetInputFilesAsync("input[type=file]", TestPaths.DataFile);
        await page.ClickAsync("input[type=submit]");
        await page.WaitForURLAsync("**/predict?explain=3", new PageWaitForURLOptions { WaitUntil = WaitUntilState.Load, Timeout = 180_000 });

        var rows = await page.Locator("#predictions tbody tr").CountAsync();
        Assert.Equal(11055, rows);
        var phishing = int.Parse((await page.TextContentAsync("#phishing-count"))!.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(phishing, await page.Locator("#predictions tbody tr.phishing").CountAsync());
        Assert.InRange(phishing, 4500, 5300); // the data set has 4,898 phishing sites

        // The "why" column: the three features that weighed most, in words, e.g. "SSLfinal_State = -1 (+2.1)".
        Assert.Equal("why", (await page.TextContentAsync("#predictions thead th.why"))?.Trim());
        var why = await page.TextContentAsync("#predictions tbody tr.phishing td.why");
        Assert.Matches(@"^\w+ = -?\d \([+-]\d+\.\d+\); \w+ = -?\d \([+-]\d+\.\d+\); \w+ = -?\d \([+-]\d+\.\d+\)$", why);
    }
}
