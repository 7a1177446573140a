using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.Tokenization;

namespace MixLens.Analysis.Corpus;

/// <summary>A line that was not analysed, and why (for the report and the summary).</summary>
public sealed record SkippedLine(int Line, string Reason);

/// <summary>The outcome of <see cref="CorpusRun.Run"/>.</summary>
/// <param name="Lines">input lines in the file.</param>
/// <param name="AlreadyDone">lines an earlier run had finished (resume): neither analysed nor reported again.</param>
/// <param name="Analysed">lines analysed by this run (their results are in the output).</param>
/// <param name="Skipped">lines reported and skipped by this run, in input order.</param>
/// <param name="Completed">false when the run was cancelled before the end (the output then holds a prefix).</param>
public sealed record CorpusRunSummary(int Lines, int AlreadyDone, int Analysed, IReadOnlyList<SkippedLine> Skipped, bool Completed)
{
    /// <summary>Lines this run had to do (all but the already-done ones).</summary>
    public int Todo => Lines - AlreadyDone;
}

/// <summary>
/// <c>analyze-corpus</c>: every line of a JSONL corpus through <see cref="CorpusAnalyzer"/>, several examples at once
/// (<see cref="OrderedParallel"/>), results stored by an <see cref="IResultSink"/> in input order. A bad line (see
/// <see cref="CorpusInput"/>; an over-long input without truncation; text the tokenizer rejects) is reported through
/// <c>skipped</c> with its line number, in input order, and counted; it never stops the run. Lines the sink already
/// holds (resume) are left out altogether.
/// </summary>
public static class CorpusRun
{
    /// <summary>Runs the corpus.</summary>
    /// <param name="model">the model.</param>
    /// <param name="entries">the parsed input (<see cref="CorpusInput.Read"/>).</param>
    /// <param name="options">methods, truncation, flow layers.</param>
    /// <param name="sink">where results go; its <see cref="IResultSink.IsDone"/> lines are not redone.</param>
    /// <param name="workers">examples analysed at once (at least 1; the output does not depend on it).</param>
    /// <param name="started">called once, before the first line, with the number of lines to do (all but the sink's
    /// <see cref="IResultSink.IsDone"/> ones; the second argument of <paramref name="progress"/>).</param>
    /// <param name="skipped">called for each skipped line, in input order, never concurrently.</param>
    /// <param name="progress">called after each line with (lines done by this run, lines to do), in order.</param>
    /// <param name="cancellation">stops the run between lines: the output then holds every line before some point, complete.</param>
    /// <exception cref="IOException">the output cannot be written (the lines before it are kept).</exception>
    public static CorpusRunSummary Run(EncoderModel model, IReadOnlyList<CorpusEntry> entries, CorpusAnalysisOptions options,
        IResultSink sink, int workers, Action<int>? started = null, Action<SkippedLine>? skipped = null, Action<int, int>? progress = null,
        CancellationToken cancellation = default)
    {
        var todo = entries.Where(e => !sink.IsDone(e)).ToArray();
        started?.Invoke(todo.Length);
        var skips = new List<SkippedLine>();
        int analysed = 0, done = 0;
        bool completed = OrderedParallel.Run(todo,
            entry => Compute(model, entry, options, sink),
            (_, outcome) =>
            {
                if (outcome is SkippedLine skip)
                {
                    skips.Add(skip);
                    skipped?.Invoke(skip);
                }
                else
                {
                    sink.Commit(outcome);
                    analysed++;
                }
                progress?.Invoke(++done, todo.Length);
            },
            workers, cancellation);
        sink.Flush();
        return new CorpusRunSummary(entries.Count, entries.Count - todo.Length, analysed, skips, completed);
    }

    /// <summary>One line: the sink's prepared result, or a <see cref="SkippedLine"/>.</summary>
    static object Compute(EncoderModel model, CorpusEntry entry, CorpusAnalysisOptions options, IResultSink sink)
    {
        if (entry is CorpusLineError error) return new SkippedLine(error.Line, error.Message);
        var example = (CorpusExample)entry;
        ExampleAnalysis analysis;
        try
        {
            analysis = CorpusAnalyzer.Analyze(model, example, options);
        }
        catch (Exception e) when (e is EncoderInputException or TokenizerException)
        {
            return new SkippedLine(example.Line, e.Message);
        }
        return sink.Prepare(analysis);
    }
}
