namespace MixLens.Fuzz;

/// <summary>
/// One fuzz target: a name (the folder of its seeds, tools/fuzz/seeds/NAME, and of its regression corpus,
/// tests/FuzzRegressions/NAME), what it feeds, and the logic one input goes through. <see cref="Run"/> returns normally
/// for an input that parsed or was refused with the documented exception; it throws for anything that breaks
/// <see cref="FuzzRule"/>.
/// </summary>
public sealed record FuzzTarget(string Name, string Description, Action<byte[]> Run);

/// <summary>Every fuzz target, by name.</summary>
public static class FuzzTargets
{
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        SafeTensorsTarget.Target,
        ConfigTarget.Target,
        TokenizerJsonTarget.Target,
        VocabTxtTarget.Target,
        BpeFilesTarget.Target,
        PickleTarget.Target,
        CheckpointTarget.Target,
        CorpusJsonlTarget.Target,
        EvaluateTsvTarget.Target,
    ];

    /// <exception cref="ArgumentException">no target has this name (the message lists them).</exception>
    public static FuzzTarget Find(string name) =>
        All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"unknown fuzz target '{name}'; targets: {string.Join(", ", All.Select(t => t.Name))}");
}
