using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using NetworkSecurity.Pipeline.Configuration;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// Checks the attributes of Pipeline:Training (mode, folds, drop margin, scoring) at start: the data-annotation check of
/// PipelineOptions stops at its own properties and does not look inside the nested section.
/// </summary>
public sealed class TrainingOptionsValidator : IValidateOptions<PipelineOptions>
{
    public ValidateOptionsResult Validate(string? name, PipelineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Training is null)
        {
            return ValidateOptionsResult.Fail("Pipeline:Training is required.");
        }

        var results = new List<ValidationResult>();
        return Validator.TryValidateObject(options.Training, new ValidationContext(options.Training), results, validateAllProperties: true)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(results.Select(r => $"Pipeline:Training:{string.Join(",", r.MemberNames)}: {r.ErrorMessage}"));
    }
}
