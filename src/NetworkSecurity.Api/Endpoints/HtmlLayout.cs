using System.Net;
using System.Text;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>The page frame and its style sheet: plain HTML and CSS, nothing fetched from elsewhere (the product works offline).</summary>
public static class HtmlLayout
{
    private const string Style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2433;background:#f5f6f8}
        header{background:#1d2433;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}header a{color:#9cc3ff}
        main{padding:20px 24px;max-width:1400px}
        section{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:16px 20px;margin-bottom:16px}
        h2{font-size:17px;margin:0 0 12px}
        table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #dde1e7;padding:3px 6px;text-align:right}
        th{background:#eef1f5;position:sticky;top:0}td.text{text-align:left}
        tr.phishing td{background:#fde8e8}tr.phishing td.verdict{color:#b42318;font-weight:600}
        td.verdict{text-align:left;color:#067647}
        .counts span{display:inline-block;margin-right:18px;font-size:15px}.counts b{font-size:20px}
        .scroll{overflow:auto;max-height:75vh}
        .counts .bad b{color:#b42318}.counts .good b{color:#067647}
        .results table{font-size:12px}.results th,.results td{padding:2px 5px;white-space:nowrap}
        .results thead th{z-index:2}
        .results .key{position:sticky;background:#fff;z-index:1;text-align:left}.results thead .key{background:#eef1f5;z-index:3}
        .results .row{left:0;width:56px;min-width:56px;max-width:56px;box-sizing:border-box;text-align:right}
        .results .verdict{left:56px;width:90px;min-width:90px;max-width:90px;box-sizing:border-box}
        .results .prob{left:146px;width:150px;min-width:150px;max-width:150px;box-sizing:border-box;text-align:right;box-shadow:2px 0 0 #dde1e7}
        .results tr.phishing td.key{background:#fde8e8}
        /* Sentences, read from their start: right-aligned, a shorter one began far into the column, off a phone's screen. */
        .results td.why{text-align:left}
        /* Wrapped, at most a readable width: with ?explain=all every feature on one line made the column 5,285 px wide, its
           heading centred far off the screen and the input columns beyond it. Cells at the top, beside a wrapped one. */
        .results td.why{white-space:normal;min-width:40em}.results th.why{text-align:left}.results td{vertical-align:top}
        .metrics td,.metrics th{font-size:14px;padding:4px 10px}
        .grid{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
        .muted{color:#667085;font-size:13px}
        button,input[type=submit]{background:#2f6fed;color:#fff;border:0;border-radius:6px;padding:7px 14px;font-size:14px;cursor:pointer}
        progress{width:260px}
        /* A file name, path or quoted cell without a break (300 x's) ran out of its box and widened the page to 2,922 px. */
        .error{color:#b42318;overflow-wrap:anywhere}
        #problem-errors td{overflow-wrap:anywhere}#problem-errors td:last-child{min-width:16em}
        /* Phones: the three sticky columns (296px) were wider than the table's box, hiding the probability's end and every other column. */
        @media (max-width:640px){header{padding:10px 12px}main{padding:10px 8px}section{padding:12px 10px}
        .results .row{width:44px;min-width:44px;max-width:44px}
        .results .verdict{left:44px;width:76px;min-width:76px;max-width:76px}
        .results td.why{min-width:20em}
        .results .prob{left:120px;width:64px;min-width:64px;max-width:64px}.results thead .prob{white-space:normal;overflow-wrap:anywhere}}
        """;

    public static string Page(string title, Action<StringBuilder> body)
    {
        var html = new StringBuilder(4096).Append(Start(title));
        body(html);
        return html.Append(End).ToString();
    }

    /// <summary>Everything before the page's content (for pages written in pieces).</summary>
    public static string Start(string title) =>
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        // An empty icon in the page: browsers asked /favicon.ico on every load and logged its 404.
        + "<link rel=\"icon\" href=\"data:,\">"
        + "<title>" + Encode(title) + "</title><style>" + Style + "</style></head><body>"
        + "<header><h1>NetworkSecurity — phishing website detection</h1><a href=\"/\">Home</a> · <a href=\"/swagger\">API documentation</a></header><main>";

    public const string End = "</main></body></html>";

    public static string Encode(string? text) => WebUtility.HtmlEncode(text ?? "");
}
