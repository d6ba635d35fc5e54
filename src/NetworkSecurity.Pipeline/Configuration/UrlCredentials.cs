namespace NetworkSecurity.Pipeline.Configuration;

/// <summary>A URL as messages show it: the password of its user information masked.</summary>
public static class UrlCredentials
{
    /// <summary>
    /// <paramref name="url"/> with the password of scheme://user:password@host replaced by ***, however malformed the
    /// rest: a setting that cannot be used is quoted in the start-up error and the log, and MLflow's
    /// https://user:token@host (sent as Basic auth) put the token there in plain text.
    /// </summary>
    public static string Redact(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0)
        {
            return url;
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
        return colon < 0 ? url : url[..(colon + 1)] + "***" + url[at..];
    }
}
