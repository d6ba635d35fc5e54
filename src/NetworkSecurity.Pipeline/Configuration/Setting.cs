using System.ComponentModel;
using System.Globalization;

namespace NetworkSecurity.Pipeline.Configuration;

/// <summary>How settings whose value is one of a few names are read.</summary>
public static class Setting
{
    /// <summary>What every boolean setting takes, for messages: "true or false (1/0, yes/no, on/off)".</summary>
    public const string SwitchWords = "true or false (1/0, yes/no, on/off)";

    /// <summary>
    /// A named value in lower case: the options (--mode GBDT, --source CSV) take any case, and the same name as a setting
    /// (Pipeline__Training__Mode=GBDT) was refused at start. Spaces are kept, so that a padded value is still refused.
    /// </summary>
    public static string Lower(string? value) => value?.ToLowerInvariant()!;

    /// <summary>
    /// A setting's key and a problem with its value in one sentence: "Pipeline:DataSource ' csv' has spaces around it…"
    /// when the problem starts with the value or "is", "Pipeline:Split: Split must be…" otherwise.
    /// </summary>
    public static string Said(string key, string problem) =>
        problem.StartsWith('\'') || problem.StartsWith("is ", StringComparison.Ordinal) ? $"{key} {problem}" : $"{key}: {problem}";

    /// <summary>
    /// The one rule of every boolean setting (Tracking:Enabled, Api:TrainOnStartup, PushData:Drop, S3_FORCE_PATH_STYLE,
    /// S3_DISABLE_CHUNKED_ENCODING), in the environment, a settings file or an option: true/false, 1/0, yes/no or on/off,
    /// in any case, spaces around ignored. False for anything else (null and empty too): callers refuse what is not one.
    /// S3's two flags took yes/on/1 and the others only true/false, so Tracking__Enabled=0 was refused at start.
    /// </summary>
    public static bool TryParseSwitch(string? value, out bool on)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case "true" or "1" or "yes" or "on":
                on = true;
                return true;
            case "false" or "0" or "no" or "off":
                on = false;
                return true;
            default:
                on = false;
                return false;
        }
    }
}

/// <summary>
/// A boolean setting of a bound options class (Api:TrainOnStartup): the configuration binder reads bool with bool.Parse,
/// true or false only, so the type carries a converter that reads it by <see cref="Setting.TryParseSwitch"/>.
/// </summary>
[TypeConverter(typeof(SwitchConverter))]
public readonly record struct Switch(bool On)
{
    public static implicit operator bool(Switch value) => value.On;

    public static implicit operator Switch(bool value) => new(value);

    public override string ToString() => On ? "true" : "false";
}

/// <summary>Converts a setting's text to a <see cref="Switch"/> by <see cref="Setting.TryParseSwitch"/>.</summary>
public sealed class SwitchConverter : TypeConverter
{
    public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType) => sourceType == typeof(string) || base.CanConvertFrom(context, sourceType);

    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
        value is string text
            ? Setting.TryParseSwitch(text, out var on) ? new Switch(on) : throw new FormatException($"'{text}' is not {Setting.SwitchWords}.")
            : base.ConvertFrom(context, culture, value);
}
