using NetworkSecurity.Learning.Learners;

namespace NetworkSecurity.Learning.ModelSelection;

/// <summary>Builds a learner from text hyperparameters (as read from a grid file). Throws ArgumentException naming a bad one.</summary>
public interface ILearnerFactory
{
    string Name { get; }

    /// <summary>The engine that implements the learner ("ours", "ML.NET"), shown on the leaderboard.</summary>
    string Engine => LearnerCatalog.OwnEngine;

    /// <summary>
    /// A parameter whose values are prefixes of one ensemble (e.g. n_estimators): the search fits once with the largest
    /// value and scores the smaller ones from the same model. Null when there is none.
    /// </summary>
    string? StagedParameter { get; }

    ILearner Create(IReadOnlyDictionary<string, string> parameters);
}
