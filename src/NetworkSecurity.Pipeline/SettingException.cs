namespace NetworkSecurity.Pipeline;

/// <summary>
/// A setting that cannot be used (an option, a configuration key, or a file a setting names, such as the search grid),
/// found while the work runs: the commands report it as a usage error (exit code 2), the service on the training job,
/// in one line. Failures of the work itself (the data, a bug) are other exceptions. Its message is complete and names
/// the setting or file.
/// </summary>
public sealed class SettingException(string message, Exception? innerException = null) : Exception(message, innerException);
