namespace NetworkSecurity.Pipeline.Configuration;

/// <summary>How settings whose value is one of a few names are read.</summary>
public static class Setting
{
    /// <summary>
    /// A named value in lower case: the options (--mode GBDT, --source CSV) take any case, and the same name as a setting
    /// (Pipeline__Training__Mode=GBDT) was refused at start. Spaces are kept, so that a padded value is still refused.
    /// </summary>
    public static string Lower(string? value) => value?.ToLowerInvariant()!;
}
