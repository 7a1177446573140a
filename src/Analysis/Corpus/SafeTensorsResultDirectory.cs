using System.Text.Json;
using MixLens.Engine.SafeTensors;

namespace MixLens.Analysis.Corpus;

/// <summary>
/// The safetensors output of <c>analyze-corpus</c>: one file per analysed input line, <c>line-NNNNNN.safetensors</c>
/// (the 1-based input line number, at least 6 digits), holding <c>input_ids</c> and <c>token_type_ids</c> (I64 [n]) and
/// one F32 [L, n, n] tensor per method named as in the shared fixtures (<c>analysis.rollout</c>,
/// <c>analysis.value_zeroing</c>, …; a token-vector method's [n] as <c>gradient.saliency</c>, …), with metadata
/// <c>format</c> (<c>mixlens-analyze-corpus</c>), <c>model</c>, <c>line</c>, <c>text</c>, <c>text_pair</c> (when
/// given), <c>tokens</c> and <c>methods</c> (JSON arrays). When a method explains a classifier's class, the file also
/// holds <c>target</c> (I64 [1], the predicted class, as in the gradient fixtures) and the metadata <c>label</c>;
/// with --steps, the metadata <c>steps</c>.
/// Each file is written to a temporary name, flushed to disk and renamed (<see cref="SafeTensorsWriter.Write"/>), so a
/// file with its final name is always complete. On <see cref="ExistingOutput.Resume"/> the lines whose file exists
/// and belongs to this run (same model, methods, steps and text) are skipped, and temporary files left by an interruption
/// are removed; a result file of another run stops it with <see cref="CorpusOutputException"/> before anything changes.
/// </summary>
public sealed class SafeTensorsResultDirectory : IResultSink
{
    /// <summary>The <c>format</c> metadata value of the result files.</summary>
    public const string FormatName = "mixlens-analyze-corpus";

    readonly string _directory;
    readonly string _model;
    readonly string _methodsJson;   // the "methods" metadata of every result file
    readonly int? _steps;           // the "steps" metadata (null: the defaults, not written)
    readonly HashSet<int> _done;

    public string Location => _directory;
    public int KeptResults => _done.Count;
    public string? ResumeNote { get; }

    SafeTensorsResultDirectory(string directory, string model, IReadOnlyList<MixingMethod> methods, int? steps, HashSet<int> done, string? note)
    {
        _steps = steps;
        _directory = directory;
        _model = model;
        _methodsJson = MethodsJson(methods);
        _done = done;
        ResumeNote = note;
    }

    /// <summary>The result file name of input line <paramref name="line"/>.</summary>
    public static string FileName(int line) => $"line-{line:D6}.safetensors";

    /// <summary>Opens (or creates) the output directory.</summary>
    /// <exception cref="CorpusOutputException">the directory holds result files and <paramref name="existing"/> is
    /// <see cref="ExistingOutput.Refuse"/>, or a result file is not from this run.</exception>
    /// <exception cref="IOException">the directory cannot be created or read.</exception>
    /// <param name="steps">the --steps of integrated-gradients and attattr, written as the <c>steps</c> metadata (null:
    /// their defaults, not written); resumed files must have the same.</param>
    public static SafeTensorsResultDirectory Open(string directory, ExistingOutput existing, string model,
        IReadOnlyList<MixingMethod> methods, IReadOnlyList<CorpusEntry> entries, int? steps = null)
    {
        if (File.Exists(directory)) throw new CorpusOutputException($"'{directory}' is a file, not a directory");
        Directory.CreateDirectory(directory);
        var results = Directory.GetFiles(directory, "line-*.safetensors");
        var done = new HashSet<int>();
        string? note = null;
        if (results.Length > 0)
        {
            if (existing == ExistingOutput.Refuse)
                throw new CorpusOutputException(
                    $"'{directory}' already holds {results.Length} result files; pass --resume to keep them and analyse the remaining lines, or --overwrite to start again");
            if (existing == ExistingOutput.Resume)
            {
                var byLine = entries.OfType<CorpusExample>().ToDictionary(e => e.Line);
                foreach (var path in results) done.Add(CheckFile(path, model, methods, steps, byLine));
            }
            else
            {
                foreach (var path in results) File.Delete(path);
            }
        }
        // temporary files of an interrupted write (SafeTensorsWriter names them ".{name}.{guid}.tmp"): never results
        var partial = Directory.GetFiles(directory, ".line-*.safetensors.*.tmp");
        foreach (var path in partial) File.Delete(path);
        if (partial.Length > 0) note = $"removed {partial.Length} incomplete temporary file(s) of an interrupted run";
        return new SafeTensorsResultDirectory(directory, model, methods, steps, done, note);
    }

    static int CheckFile(string path, string model, IReadOnlyList<MixingMethod> methods, int? steps, Dictionary<int, CorpusExample> input)
    {
        const string advice = "not resuming; give another --out-dir, or --overwrite to replace its result files";
        string name = Path.GetFileName(path);
        if (!int.TryParse(name.AsSpan(5, name.Length - 5 - ".safetensors".Length), out int line) || FileName(line) != name)
            throw new CorpusOutputException($"'{path}' is not named as a result file (line-NNNNNN.safetensors); {advice}");
        IReadOnlyDictionary<string, string> meta;
        try
        {
            using var file = SafeTensorsFile.Open(path);
            meta = file.Metadata;
        }
        catch (SafeTensorsException e)
        {
            throw new CorpusOutputException($"'{path}' is not a readable safetensors file ({e.Message}); {advice}");
        }
        string Get(string key) => meta.TryGetValue(key, out var v) ? v : "";
        if (Get("format") != FormatName) throw new CorpusOutputException($"'{path}' was not written by analyze-corpus; {advice}");
        if (Get("model") != model) throw new CorpusOutputException($"'{path}' was written with model '{Get("model")}', not '{model}'; {advice}");
        string expectedMethods = MethodsJson(methods);
        if (Get("methods") != expectedMethods)
            throw new CorpusOutputException($"'{path}' holds methods {Get("methods")}, this run asks for {expectedMethods}; {advice}");
        int? writtenSteps = int.TryParse(Get("steps"), out int s) ? s : null;
        if (writtenSteps != steps)
            throw new CorpusOutputException($"'{path}' was computed with {JsonlResultFile.StepsText(writtenSteps)}, this run with {JsonlResultFile.StepsText(steps)}; {advice}");
        if (!input.TryGetValue(line, out var example) || Get("text") != example.Text
            || (meta.TryGetValue("text_pair", out var pair) ? pair : null) != example.TextPair)
            throw new CorpusOutputException($"'{path}': its text differs from input line {line} (another input file?); {advice}");
        return line;
    }

    static string MethodsJson(IReadOnlyList<MixingMethod> methods) =>
        JsonSerializer.Serialize(methods.Select(MixingMethods.NameOf).ToArray(), StringArrayJsonContext.Default.StringArray);

    public bool IsDone(CorpusEntry entry) => _done.Contains(entry.Line);

    /// <summary>Writes the example's file (atomically) on the worker thread; returns its path.</summary>
    public object Prepare(ExampleAnalysis analysis)
    {
        var encoding = analysis.Encoding;
        int n = encoding.Length;
        var tensors = new List<TensorToWrite>
        {
            TensorToWrite.Int64("input_ids", encoding.Ids.Select(i => (long)i).ToArray(), n),
            TensorToWrite.Int64("token_type_ids", encoding.TypeIds.Select(i => (long)i).ToArray(), n),
        };
        foreach (var (method, scores) in analysis.Scores)
            tensors.Add(TensorToWrite.Float32(CorpusAnalyzer.TensorName(method), scores.Data, scores.Shape.Select(s => (long)s).ToArray()));
        if (analysis.Target is var (target, _)) tensors.Add(TensorToWrite.Int64("target", [target], 1));
        var metadata = new Dictionary<string, string>
        {
            ["format"] = FormatName,
            ["model"] = _model,
            ["line"] = analysis.Example.Line.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["text"] = analysis.Example.Text,
            ["tokens"] = JsonSerializer.Serialize(encoding.Tokens, StringArrayJsonContext.Default.StringArray),
            ["methods"] = _methodsJson,
        };
        if (analysis.Example.TextPair is not null) metadata["text_pair"] = analysis.Example.TextPair;
        if (analysis.Target is var (_, label)) metadata["label"] = label;
        if (_steps is int steps) metadata["steps"] = steps.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string path = Path.Combine(_directory, FileName(analysis.Example.Line));
        SafeTensorsWriter.Write(path, tensors, metadata);
        return path;
    }

    public void Commit(object prepared) { }

    public void Flush() { }

    public void Dispose() { }
}
