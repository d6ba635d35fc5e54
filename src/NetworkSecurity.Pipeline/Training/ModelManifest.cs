using System.Security.Cryptography;
using System.Text.Json;
using NetworkSecurity.Pipeline.Artifacts;

namespace NetworkSecurity.Pipeline.Training;

/// <summary>
/// The SHA-256 of every file in a model version folder, whatever the files are (bundle, card, other learners' files),
/// written when the version is promoted and checked before it is loaded: a changed, missing or added file fails.
/// </summary>
public static class ModelManifest
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static void Write(string folder, string manifestName)
    {
        var manifest = new Manifest("sha256", Files(folder, manifestName).ToDictionary(f => f.Key, f => Hash(f.Path), StringComparer.Ordinal));
        SafeFile.WriteAllText(Path.Combine(folder, manifestName), JsonSerializer.Serialize(manifest, Json));
    }

    /// <summary>Null when every file matches the manifest; otherwise what is wrong.</summary>
    public static string? Verify(string folder, string manifestName)
    {
        var path = Path.Combine(folder, manifestName);
        if (!File.Exists(path))
        {
            // Builds before 2026-11-25 promoted versions without one: say so, and what to do, rather than leave an upgraded
            // deployment guessing at damage. It is still refused: a removed manifest cannot be told from a missing one.
            return $"it has no {manifestName} (the SHA-256 of its files), so its files cannot be checked: versions promoted before 2026-11-25 have none (or it was removed). Retrain to replace it (the train command, or POST /train).";
        }

        Manifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(path), Json);
        }
        catch (JsonException ex)
        {
            return $"{manifestName} is damaged ({ex.Message}).";
        }

        if (manifest?.Files is not { Count: > 0 } expected || manifest.Algorithm != "sha256")
        {
            return $"{manifestName} lists no SHA-256 file hashes.";
        }

        var present = Files(folder, manifestName).ToDictionary(f => f.Key, f => f.Path, StringComparer.Ordinal);
        foreach (var (key, hash) in expected)
        {
            if (!present.TryGetValue(key, out var file))
            {
                return $"{key} is missing.";
            }

            if (!string.Equals(Hash(file), hash, StringComparison.OrdinalIgnoreCase))
            {
                return $"{key} does not match its SHA-256 in {manifestName} (the file changed after promotion).";
            }
        }

        var extra = present.Keys.FirstOrDefault(k => !expected.ContainsKey(k));
        return extra is null ? null : $"{extra} is not listed in {manifestName} (added after promotion).";
    }

    private static IEnumerable<(string Key, string Path)> Files(string folder, string manifestName) =>
        System.IO.Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => (Key: Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/'), Path: f))
            .Where(f => f.Key != manifestName)
            .OrderBy(f => f.Key, StringComparer.Ordinal);

    private static string Hash(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private sealed record Manifest(
        [property: System.Text.Json.Serialization.JsonPropertyName("algorithm")] string Algorithm,
        [property: System.Text.Json.Serialization.JsonPropertyName("files")] Dictionary<string, string> Files);
}
