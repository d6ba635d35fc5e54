using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using MongoDB.Bson;

namespace NetworkSecurity.MongoDb.Tests;

/// <summary>
/// The server side of SCRAM-SHA-256 (RFC 5802/7677) as MongoDB runs it over saslStart/saslContinue: checks the
/// client's proof against the stored password and proves itself with the server signature, so a wrong password is
/// refused exactly as a real server would (code 18, AuthenticationFailed). ASCII passwords only (no SASLprep).
/// </summary>
internal sealed class ScramSha256Server
{
    private const int Iterations = 4096;
    private string? _clientFirstBare;
    private string? _serverFirst;
    private string? _nonce;
    private byte[]? _saltedPassword;

    public BsonDocument Start(byte[] payload, ConcurrentDictionary<string, string> users)
    {
        var clientFirst = Encoding.UTF8.GetString(payload); // "n,,n=user,r=nonce"
        _clientFirstBare = clientFirst[(clientFirst.IndexOf(",,", StringComparison.Ordinal) + 2)..];
        var fields = Fields(_clientFirstBare);
        var user = fields["n"].Replace("=2C", ",", StringComparison.Ordinal).Replace("=3D", "=", StringComparison.Ordinal);
        var salt = RandomNumberGenerator.GetBytes(16);
        _nonce = fields["r"] + Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
        // An unknown user gets a full exchange with a random password, so it fails like a wrong password.
        var password = users.TryGetValue(user, out var known) ? known : Convert.ToBase64String(RandomNumberGenerator.GetBytes(12));
        _saltedPassword = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, Iterations, HashAlgorithmName.SHA256, 32);
        _serverFirst = $"r={_nonce},s={Convert.ToBase64String(salt)},i={Iterations}";
        return WireProtocolServer.Ok(new BsonDocument { ["conversationId"] = 1, ["done"] = false, ["payload"] = new BsonBinaryData(Encoding.UTF8.GetBytes(_serverFirst)) });
    }

    public (BsonDocument Reply, bool Authenticated) Continue(byte[] payload)
    {
        if (_saltedPassword is null)
        {
            return (WireProtocolServer.Error(17, "ProtocolError", "saslContinue without saslStart"), false);
        }

        var clientFinal = Encoding.UTF8.GetString(payload); // "c=biws,r=nonce,p=proof"
        var proofAt = clientFinal.LastIndexOf(",p=", StringComparison.Ordinal);
        var withoutProof = clientFinal[..proofAt];
        var proof = Convert.FromBase64String(clientFinal[(proofAt + 3)..]);
        var authMessage = Encoding.UTF8.GetBytes($"{_clientFirstBare},{_serverFirst},{withoutProof}");
        var clientKey = HMACSHA256.HashData(_saltedPassword, "Client Key"u8);
        var storedKey = SHA256.HashData(clientKey);
        var clientSignature = HMACSHA256.HashData(storedKey, authMessage);
        var recovered = proof.Zip(clientSignature, (a, b) => (byte)(a ^ b)).ToArray();
        if (Fields(withoutProof)["r"] != _nonce || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(recovered), storedKey))
        {
            return (WireProtocolServer.Error(18, "AuthenticationFailed", "Authentication failed."), false);
        }

        var serverKey = HMACSHA256.HashData(_saltedPassword, "Server Key"u8);
        var serverSignature = HMACSHA256.HashData(serverKey, authMessage);
        var reply = WireProtocolServer.Ok(new BsonDocument
        {
            ["conversationId"] = 1,
            ["done"] = true,
            ["payload"] = new BsonBinaryData(Encoding.UTF8.GetBytes("v=" + Convert.ToBase64String(serverSignature))),
        });
        return (reply, true);
    }

    private static Dictionary<string, string> Fields(string message) =>
        message.Split(',').Where(p => p.Length > 1 && p[1] == '=').ToDictionary(p => p[..1], p => p[2..]);
}
