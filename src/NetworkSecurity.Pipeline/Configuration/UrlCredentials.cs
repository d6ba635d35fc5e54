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
        UserInfo(url) is var (colon, at) ? url[..(colon + 1)] + "***" + url[at..] : url;

    /// <summary>The password of scheme://user:password@host as written (not decoded), or null when there is none.</summary>
    public static string? Password(string url) =>
        UserInfo(url) is var (colon, at) ? url[(colon + 1)..at] : null;

    // Where the user information's ':' and its closing '@' are, when it has a password.
    private static (int Colon, int At)? UserInfo(string url)
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

        var colon = at >= start ? url.IndexOf(':', start, at - start) : -1;
        return colon < 0 ? null : (colon, at);
    }
}
