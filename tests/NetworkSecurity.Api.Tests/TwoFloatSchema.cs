namespace NetworkSecurity.Api.Tests;

/// <summary>A schema of two features of any number (a, b) and a 0/1 target: huge values make logistic regression's probabilities NaN.</summary>
internal static class TwoFloatSchema
{
    public const string Yaml = """
    version: 1
    features:
      - name: a
        type: float
      - name: b
        type: float
    target:
      name: y
      type: int
      classes:
        - value: 0
          name: legitimate
        - value: 1
          name: phishing
    """;
}
