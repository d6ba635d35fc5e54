using System.ComponentModel.DataAnnotations;

namespace NetworkSecurity.Pipeline.Configuration;

/// <summary>
/// A setting that names one of a few values (Pipeline:DataSource, Pipeline:Split, Replication:LeaseMode…), said in one
/// message for the one thing wrong: empty, blank, an allowed value with spaces around it, or another value (the
/// attribute's ErrorMessage). A padded ' csv' was refused as "must be 'csv' or 'mongodb'", not naming the spaces, and an
/// empty value as "The DataSource field is required."
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ChoiceAttribute(params string[] allowed) : ValidationAttribute
{
    public IReadOnlyList<string> Allowed { get; } = allowed;

    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        ArgumentNullException.ThrowIfNull(validationContext);
        var text = value as string;
        if (text is not null && Allowed.Contains(text, StringComparer.Ordinal))
        {
            return ValidationResult.Success;
        }

        var quoted = Allowed.Select(a => $"'{a}'").ToArray();
        var words = quoted.Length == 1 ? quoted[0] : $"{string.Join(", ", quoted[..^1])} or {quoted[^1]}";
        var trimmed = text?.Trim();
        var problem = string.IsNullOrEmpty(text) ? $"is empty: give {words}, or leave the setting out."
            : trimmed!.Length == 0 ? $"'{text}' is blank: give {words}, or leave the setting out."
            : Allowed.Contains(trimmed, StringComparer.OrdinalIgnoreCase) ? $"'{text}' has spaces around it: give '{trimmed}' without them."
            : ErrorMessage ?? $"'{text}' is not {words}.";
        return new ValidationResult(problem, validationContext.MemberName is { } member ? [member] : null);
    }
}
