namespace NetworkSecurity.Pipeline.Configuration;

/// <summary>The user information of a URL (scheme://user:password@host): its password, and the URL as messages show it.</summary>
public static class UrlCredentials
{
    /// <summary>
    /// <paramref name="url"/> with the password of scheme://user:password@host replaced by ***, however malformed the
    /// rest: a setting that cannot be used is quoted in the start-up error and the log, and MLflow's
    /// https://user:token@host (sent as Basic auth) put the token there in plain text.
    /// </summary>
    public static string Redact(string url) =>
        UserInfo(url) is var (_, colon, at) && colon >= 0 ? url[..(colon + 1)] + "***" + url[at..] : url;

    /// <summary>
    /// As <see cref="Redact"/>, and a user without a password (scheme://user@host) masked too, as ***@host: MLflow's
    /// client sends it as the Basic auth user, where a token goes (https://TOKEN@host), and it was shown as written.
    /// </summary>
    public static string RedactUser(string url) =>
        UserInfo(url) is var (start, colon, at) ? colon >= 0 ? Redact(url) : url[..start] + "***" + url[at..] : url;

    /// <summary>The password of scheme://user:password@host as written (not decoded), or null when there is none.</summary>
    public static string? Password(string url) =>
        UserInfo(url) is var (_, colon, at) && colon >= 0 ? url[(colon + 1)..at] : null;

    // Where the user information starts, its ':' (-1 without a password) and its closing '@' are, when it has any.
    private static (int Start, int Colon, int At)? UserInfo(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0)
        {
            return null;
        }

        // The user information ends at the last '@' before the path; a raw '/' or '?' in a password moves the path's
        // start into it, so then the last '@' anywhere (masking too much beats showing the secret).
        var start = scheme + 3;
        var path = url.IndexOfAny(['/', '?', '#'], start);
        var at = path < 0 ? url.LastIndexOf('@') : path > start ? url.LastIndexOf('@', path - 1) : -1;
        if (at < start)
        {
            at = url.LastIndexOf('@');
        }

        return at < start ? null : (start, url.IndexOf(':', start, at - start), at);
    }
}
