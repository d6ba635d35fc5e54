using NetworkSecurity.Learning.Models;

namespace NetworkSecurity.Learning.Serialization;

/// <summary>A model that can write itself; <see cref="ModelSerializer"/> reads it back by <see cref="Kind"/>.</summary>
public interface IPersistableModel : IClassifierModel
{
    /// <summary>Stable name of the model type in the file format, e.g. "gbdt".</summary>
    string Kind { get; }

    /// <summary>Writes the model's payload (everything after the kind tag).</summary>
    void WriteTo(BinaryWriter writer);
}
