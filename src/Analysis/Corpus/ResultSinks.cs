namespace MixLens.Analysis.Corpus;

/// <summary>What to do with results an earlier run left at the output location.</summary>
public enum ExistingOutput
{
    /// <summary>Refuse to start when the output already holds results (the default: never overwrite silently).</summary>
    Refuse,
    /// <summary>Keep the finished results, drop only what an interruption left incomplete, and analyse the rest.</summary>
    Resume,
    /// <summary>Discard the existing results and start again.</summary>
    Overwrite,
}

/// <summary>
/// Thrown when an output location cannot be used: results exist and neither resume nor overwrite was asked for, or the
/// existing results do not belong to this run (another model, other methods, another input). Nothing was changed.
/// </summary>
public sealed class CorpusOutputException(string message) : Exception(message);

/// <summary>Where <see cref="CorpusRun"/> puts its results, with what earlier runs left there.</summary>
public interface IResultSink : IDisposable
{
    /// <summary>Where the results go (for messages).</summary>
    string Location { get; }

    /// <summary>Results kept from an earlier run (resume).</summary>
    int KeptResults { get; }

    /// <summary>A note on what opening the output changed or found (e.g. an incomplete last line dropped), or null.</summary>
    string? ResumeNote { get; }

    /// <summary>Whether an earlier run already finished this input line (it is then neither analysed nor reported again).</summary>
    bool IsDone(CorpusEntry entry);

    /// <summary>Turns one analysis into what <see cref="Commit"/> stores; called on worker threads, concurrently.</summary>
    object Prepare(ExampleAnalysis analysis);

    /// <summary>Stores a prepared result; called in input order, never concurrently.</summary>
    void Commit(object prepared);

    /// <summary>Makes everything committed so far durable.</summary>
    void Flush();
}
