using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// Replication:ReplicaId names the replica in log lines, the training lease and the job records: one with a line break
/// (Replication__ReplicaId=$'a\nb') was taken by the service and the commands, and forged a second line into every log
/// line that names the replica.
/// </summary>
public sealed class ReplicaIdSettingTests
{
    [Theory]
    [InlineData("replica\nforged")]
    [InlineData("replica\u001b[31m")]
    public void A_replica_id_with_a_control_character_is_refused_naming_the_setting(string id)
    {
        using var dir = new TempDirectory();
        foreach (string[] arguments in new[] { new[] { "export", "--final-model", Path.Combine(dir.Path, "final_model") }, ["--urls", "http://127.0.0.1:0"] })
        {
            var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Replication__ReplicaId"] = id }, arguments);
            Assert.True(code == 2, $"{arguments[0]}: exit {code}: {stderr}{stdout}");
            Assert.Contains("Replication:ReplicaId has a control character", stderr);
            Assert.Contains("from environment variable Replication__ReplicaId", stderr);
        }
    }
}
