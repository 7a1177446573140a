using System.Diagnostics;
using System.Text.Json;
using MixLens.Engine;

namespace MixLens.Analysis.Corpus;

/// <summary>
/// The JSONL output of <c>analyze-corpus</c>: one line per analysed input line (<see cref="AnalysisJson.ResultLine"/>),
/// in input order. Durability and resume:
/// <list type="bullet">
/// <item>each result is appended as one complete line in a single write, and the file is flushed to disk (fsync) at
/// least once a second and when the run ends, so an interruption (Ctrl-C, kill, crash) leaves complete lines followed
/// by at most one incomplete last line;</item>
/// <item>on <see cref="ExistingOutput.Resume"/>, every complete line is checked to be a result of this run (same
/// model, same methods in the same order, same steps, line numbers increasing, and the same text as that line of the input);
/// then only an incomplete last line (no final <c>\n</c>) is cut off, and the run continues after the last kept
/// line. A line that fails the check stops the run with <see cref="CorpusOutputException"/> before anything is
/// changed;</item>
/// <item>an existing non-empty file is never overwritten without <see cref="ExistingOutput.Overwrite"/>.</item>
/// </list>
/// </summary>
public sealed class JsonlResultFile : IResultSink
{
    static readonly TimeSpan SyncInterval = TimeSpan.FromSeconds(1);

    readonly string _model;
    readonly int? _steps;
    readonly FileStream _stream;
    readonly int _resumeAfterLine;
    readonly Stopwatch _sinceSync = Stopwatch.StartNew();
    bool _dirty;

    public string Location { get; }
    public int KeptResults { get; }
    public string? ResumeNote { get; }

    JsonlResultFile(string path, string model, int? steps, FileStream stream, int resumeAfterLine, int kept, string? note)
    {
        Location = path;
        _model = model;
        _steps = steps;
        _stream = stream;
        _resumeAfterLine = resumeAfterLine;
        KeptResults = kept;
        ResumeNote = note;
    }

    /// <summary>Opens (or creates) the output file.</summary>
    /// <param name="path">the JSONL file.</param>
    /// <param name="existing">what to do when it already holds results.</param>
    /// <param name="model">the model name written in each line.</param>
    /// <param name="methods">the methods, in output order.</param>
    /// <param name="entries">the whole input (to check resumed lines against their input text).</param>
    /// <param name="steps">the --steps of integrated-gradients and attattr, written in each line (null: their
    /// defaults, not written); resumed lines must have the same.</param>
    /// <exception cref="CorpusOutputException">the file holds results and <paramref name="existing"/> is
    /// <see cref="ExistingOutput.Refuse"/>, or a complete line is not a result of this run.</exception>
    /// <exception cref="IOException">the file cannot be read or written.</exception>
    public static JsonlResultFile Open(string path, ExistingOutput existing, string model, IReadOnlyList<MixingMethod> methods,
        IReadOnlyList<CorpusEntry> entries, int? steps = null)
    {
        var info = new FileInfo(path);
        if (!info.Exists || info.Length == 0 || existing == ExistingOutput.Overwrite)
        {
            var fresh = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read);
            return new JsonlResultFile(path, model, steps, fresh, 0, 0, null);
        }
        if (existing == ExistingOutput.Refuse)
            throw new CorpusOutputException(
                $"'{path}' already holds results; pass --resume to keep them and analyse the remaining lines, or --overwrite to start again");

        var (keptBytes, kept, lastLine, tornBytes) = Validate(path, model, methods, entries, steps);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read);
        string? note = null;
        if (tornBytes > 0)
        {
            stream.SetLength(keptBytes);   // only the incomplete last line of an interrupted run
            stream.Flush(flushToDisk: true);
            note = $"dropped the incomplete last line ({tornBytes} bytes) of an interrupted run";
        }
        stream.Seek(0, SeekOrigin.End);
        return new JsonlResultFile(path, model, steps, stream, lastLine, kept, note);
    }

    /// <summary>
    /// Checks every complete line; returns the byte length of the complete lines, their count, the last input line
    /// number they cover, and the length of an incomplete tail.
    /// </summary>
    static (long KeptBytes, int Kept, int LastLine, long TornBytes) Validate(string path, string model,
        IReadOnlyList<MixingMethod> methods, IReadOnlyList<CorpusEntry> entries, int? steps)
    {
        var byLine = entries.ToDictionary(e => e.Line);
        var expectedMethods = methods.Select(MixingMethods.NameOf).ToArray();
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var line = new MemoryStream();
        long offset = 0, keptBytes = 0;
        int kept = 0, lastLine = 0, outputLine = 0;
        var buffer = new byte[1 << 16];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            int start = 0;
            for (int k = 0; k < read; k++)
            {
                if (buffer[k] != (byte)'\n') continue;
                line.Write(buffer, start, k - start);
                start = k + 1;
                outputLine++;
                lastLine = CheckLine(path, outputLine, line.GetBuffer().AsSpan(0, (int)line.Length), lastLine, model, expectedMethods, steps, byLine);
                kept++;
                keptBytes = offset + k + 1;
                line.SetLength(0);
            }
            line.Write(buffer, start, read - start);
            offset += read;
        }
        return (keptBytes, kept, lastLine, line.Length);
    }

    static int CheckLine(string path, int outputLine, ReadOnlySpan<byte> bytes, int previousLine, string model,
        string[] methods, int? steps, Dictionary<int, CorpusEntry> input)
    {
        string where = $"'{path}', line {outputLine}";
        const string advice = "not resuming; give another output, or --overwrite to replace it";
        try
        {
            using var doc = StrictJson.Parse(bytes.ToArray());
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("line", out var lineElement)
                || !lineElement.TryGetInt32(out int inputLine) || !root.TryGetProperty("scores", out var scores)
                || scores.ValueKind != JsonValueKind.Object)
                throw new CorpusOutputException($"{where} is not an analyze-corpus result line; {advice}");
            string? writtenModel = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            if (writtenModel != model)
                throw new CorpusOutputException($"{where} was written with model '{writtenModel}', not '{model}'; {advice}");
            var writtenMethods = scores.EnumerateObject().Select(p => p.Name).ToArray();
            if (!writtenMethods.SequenceEqual(methods))
                throw new CorpusOutputException(
                    $"{where} holds methods {string.Join(",", writtenMethods)}, this run asks for {string.Join(",", methods)}; {advice}");
            int? writtenSteps = root.TryGetProperty("steps", out var st) && st.TryGetInt32(out int stv) ? stv : null;
            if (writtenSteps != steps)
                throw new CorpusOutputException(
                    $"{where} was computed with {StepsText(writtenSteps)}, this run with {StepsText(steps)}; {advice}");
            if (inputLine <= previousLine)
                throw new CorpusOutputException($"{where} is for input line {inputLine}, after line {previousLine}: not in input order; {advice}");
            if (!input.TryGetValue(inputLine, out var entry) || entry is not CorpusExample example)
                throw new CorpusOutputException($"{where} is for input line {inputLine}, which is not an example of this input; {advice}");
            string? text = root.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            string? pair = root.TryGetProperty("text_pair", out var tp) && tp.ValueKind == JsonValueKind.String ? tp.GetString() : null;
            if (text != example.Text || pair != example.TextPair)
                throw new CorpusOutputException($"{where}: its text differs from input line {inputLine} (another input file?); {advice}");
            return inputLine;
        }
        catch (JsonException)
        {
            throw new CorpusOutputException($"{where} is complete but not valid JSON (not written by an interrupted run); {advice}");
        }
    }

    public bool IsDone(CorpusEntry entry) => entry.Line <= _resumeAfterLine;

    public object Prepare(ExampleAnalysis analysis) => AnalysisJson.ResultLine(_model, analysis, _steps);

    /// <summary>"--steps 4", or "the default steps".</summary>
    internal static string StepsText(int? steps) => steps is int m ? $"--steps {m}" : "the default steps";

    public void Commit(object prepared)
    {
        _stream.Write((byte[])prepared);   // one complete line in one write
        _stream.Flush();                   // to the operating system: survives a killed process
        _dirty = true;
        if (_sinceSync.Elapsed >= SyncInterval) Flush();
    }

    public void Flush()
    {
        if (!_dirty) return;
        _stream.Flush(flushToDisk: true);  // fsync: survives a crash of the machine
        _dirty = false;
        _sinceSync.Restart();
    }

    public void Dispose()
    {
        Flush();
        _stream.Dispose();
    }
}
