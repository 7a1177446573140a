using System.Text;
using System.Text.Json;
using MixLens.Analysis.Corpus;
using MixLens.Engine.SafeTensors;
using MixLens.Tests.Cli;
using MixLens.Tests.Encoder;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Corpus;

/// <summary><c>mixlens analyze-corpus</c>: results equal <c>analyze</c> and the fixtures, bad lines reported, resume, safetensors.</summary>
public class AnalyzeCorpusCommandTests
{
    const string MiniLm = "all-MiniLM-L6-v2";
    static string Model => CliHarness.Model(MiniLm);

    static string JsonLine(string text, string? pair = null) =>
        JsonSerializer.Serialize(pair is null ? new Dictionary<string, string> { ["text"] = text } : new() { ["text"] = text, ["text_pair"] = pair });

    /// <summary>Five good lines from the fixture cases (one a pair).</summary>
    static string[] GoodLines()
    {
        var f = ModelFixtures.Load(MiniLm);
        var pair = f.Case("pair_station");
        return
        [
            JsonLine(f.Case("fox").Text),
            JsonLine(pair.Text, pair.TextPair),
            JsonLine(f.Case("accents").Text),
            JsonLine(f.Case("movie").Text),
            JsonLine(f.Case("single").Text),
        ];
    }

    static string WriteInput(TempFolder dir, IEnumerable<string> lines, string name = "corpus.jsonl")
    {
        string path = dir.File(name);
        File.WriteAllText(path, string.Join("\n", lines) + "\n", new UTF8Encoding(false));
        return path;
    }

    static CliResult Corpus(params string[] args) => CliHarness.Run(["analyze-corpus", "--model", Model, .. args]);

    /// <summary>Runs analyze-corpus on <paramref name="texts"/> ((text, pair) pairs) and checks that each line's
    /// tokens and every method's scores are exactly those <c>analyze --format json</c> prints for that text (with
    /// <paramref name="extra"/> options of both, e.g. --steps); returns the result lines.</summary>
    static string[] CorpusEqualsAnalyze(string model, string methods, (string Text, string? Pair)[] texts, string[] expectedMethods,
        params string[] extra)
    {
        using var dir = new TempFolder();
        string input = WriteInput(dir, texts.Select(t => JsonLine(t.Text, t.Pair)));
        string output = dir.File("out.jsonl");
        var run = CliHarness.Run(["analyze-corpus", "--model", model, "--input", input, "--methods", methods, "--out", output, "--jobs", "2", .. extra]);
        // stderr: nothing but the periodic progress line, which a run past 10 s prints (a slow or loaded machine)
        var unexpected = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => !(line.StartsWith("analyze-corpus: ", StringComparison.Ordinal) && line.Contains(" ETA ", StringComparison.Ordinal)));
        Assert.True(run.ExitCode == 0 && !unexpected.Any(), run.ToString());
        Assert.Contains($"analysed {texts.Length} of {texts.Length} lines", run.Stdout);

        var lines = File.ReadAllLines(output);
        Assert.Equal(texts.Length, lines.Length);
        for (int k = 0; k < texts.Length; k++)
        {
            using var doc = JsonDocument.Parse(lines[k]);
            var root = doc.RootElement;
            Assert.Equal(k + 1, root.GetProperty("line").GetInt32());
            Assert.Equal(Path.GetFileName(model), root.GetProperty("model").GetString());
            var scores = root.GetProperty("scores");
            Assert.Equal(expectedMethods, scores.EnumerateObject().Select(p => p.Name));
            foreach (var method in scores.EnumerateObject())
            {
                Assert.True(MixLens.Analysis.MixingMethods.TryParse(method.Name, out var m));
                string[] methodExtra = MixLens.Analysis.MixingMethods.TakesSteps(m) ? extra : [];
                string[] args = texts[k].Pair is null
                    ? ["analyze", "--model", model, "--text", texts[k].Text, "--method", method.Name, "--format", "json", .. methodExtra]
                    : ["analyze", "--model", model, "--text", texts[k].Text, "--text-pair", texts[k].Pair!, "--method", method.Name, "--format", "json", .. methodExtra];
                using var single = JsonDocument.Parse(CliHarness.RunOk(args).Stdout);
                Assert.Equal(single.RootElement.GetProperty("tokens").GetRawText(), root.GetProperty("tokens").GetRawText());
                // the same numbers, printed the same way
                Assert.True(single.RootElement.GetProperty("scores").GetRawText() == method.Value.GetRawText(),
                    $"line {k + 1}, {method.Name}: analyze-corpus differs from analyze");
                if (single.RootElement.TryGetProperty("target", out var target))
                {
                    Assert.Equal(target.GetInt32(), root.GetProperty("target").GetInt32());
                    Assert.Equal(single.RootElement.GetProperty("label").GetString(), root.GetProperty("label").GetString());
                }
            }
        }
        return lines;
    }

    static readonly string[] ClassifierMethods = ["saliency", "gradient-x-input", "integrated-gradients", "attattr", "chefer"];

    [Fact]
    public void AnalyzeCorpus_EveryMethod_EqualsAnalyzeJsonPerExample()
    {
        // 'all' on a classifier: every method, in the order of MixingMethods.Names, gradient methods and hta included
        // (a small classifier keeps hta and the integrals cheap)
        var lines = CorpusEqualsAnalyze(TinyClassifier.Directory, "all",
            [("The quick brown fox.", null), ("Where is the station?", "Two blocks north.")], MixLens.Analysis.MixingMethods.Names.ToArray(),
            "--steps", "3");
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            Assert.Equal(3, doc.RootElement.GetProperty("steps").GetInt32());
            int n = doc.RootElement.GetProperty("tokens").GetArrayLength();
            Assert.Equal(n, doc.RootElement.GetProperty("scores").GetProperty("saliency").GetArrayLength());
        }
    }

    [Fact]
    public void AnalyzeCorpus_EveryForwardMethodOnMiniLm_EqualsAnalyzeJsonPerExample()
    {
        var f = ModelFixtures.Load(MiniLm);
        var pair = f.Case("pair_station");
        // every method of a model without a classifier head, but hta (exact: minutes on MiniLM; covered above)
        string[] methods = MixLens.Analysis.MixingMethods.Names.Where(n => !ClassifierMethods.Contains(n) && n != "hta").ToArray();
        CorpusEqualsAnalyze(Model, string.Join(",", methods), [(f.Case("fox").Text, null), (pair.Text, pair.TextPair)], methods);
    }

    [Fact]
    public void AnalyzeCorpus_GradientMethodsOnSst2_EqualAnalyzeJsonWithThePredictedTarget()
    {
        CorpusEqualsAnalyze(CliHarness.Model("minilm-l6-sst2"), string.Join(",", ClassifierMethods),
            [("A gorgeous, witty movie.", null), ("The plot is thin.", null)], ClassifierMethods, "--steps", "2");
    }

    [Fact]
    public void AnalyzeCorpus_AllOnModelWithoutHead_LeavesOutTheClassifierMethods()
    {
        string model = CliHarness.Model("roberta-random");
        var lines = CorpusEqualsAnalyze(model, "all", [("The quick brown fox.", null)],
            MixLens.Analysis.MixingMethods.Names.Where(n => !ClassifierMethods.Contains(n)).ToArray());
        using var doc = JsonDocument.Parse(lines[0]);
        Assert.False(doc.RootElement.TryGetProperty("target", out _));
        Assert.False(doc.RootElement.TryGetProperty("steps", out _));
    }

    [Fact]
    public void AnalyzeCorpus_ClassifierMethodOnModelWithoutHead_OneLineBeforeStarting()
    {
        using var dir = new TempFolder();
        string input = WriteInput(dir, [JsonLine("A fine film.")]);
        string output = dir.File("out.jsonl");
        string line = CliHarness.RunUserError("integrated-gradients explains the class of a sequence classifier, and all-MiniLM-L6-v2 has none",
            "analyze-corpus", "--model", Model, "--input", input, "--methods", "rollout,integrated-gradients", "--out", output);
        Assert.Contains("missing 'classifier.weight'", line);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void AnalyzeCorpus_HtaOverItsLimit_LineSkippedAndCounted()
    {
        using var dir = new TempFolder();
        string input = WriteInput(dir, [JsonLine("Short."), JsonLine("one two three four five six seven eight nine ten"), JsonLine("Also short.")]);
        string output = dir.File("out.jsonl");
        var run = Corpus2("roberta-random", "--input", input, "--methods", "hta", "--hta-max-tokens", "8", "--out", output);
        Assert.Equal(0, run.ExitCode);
        var report = Assert.Single(run.StderrLines);
        Assert.StartsWith("mixlens: corpus.jsonl, line 2: the input is 12 tokens long, over hta's limit of 8 tokens", report);
        Assert.Contains("1 line skipped (line 2)", run.Stdout);
        Assert.Equal(2, File.ReadAllLines(output).Length);
    }

    [Fact]
    public void AnalyzeCorpus_ResumeWithOtherSteps_RefusedInOneLine()
    {
        using var dir = new TempFolder();
        string input = WriteInput(dir, [JsonLine("A fine film."), JsonLine("A dull one.")]);
        string output = dir.File("out.jsonl");
        var first = Corpus2(TinyClassifier.Directory, "--input", input, "--methods", "saliency,attattr", "--steps", "2", "--out", output);
        Assert.True(first.ExitCode == 0, first.ToString());
        var lines = File.ReadAllLines(output);
        File.WriteAllText(output, lines[0] + "\n");
        CliHarness.RunUserError("was computed with --steps 2, this run with --steps 3", "analyze-corpus", "--model", TinyClassifier.Directory,
            "--input", input, "--methods", "saliency,attattr", "--steps", "3", "--out", output, "--resume");
        CliHarness.RunUserError("was computed with --steps 2, this run with the default steps", "analyze-corpus", "--model", TinyClassifier.Directory,
            "--input", input, "--methods", "saliency,attattr", "--out", output, "--resume");
        var resumed = Corpus2(TinyClassifier.Directory, "--input", input, "--methods", "saliency,attattr", "--steps", "2", "--out", output, "--resume");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(lines, File.ReadAllLines(output));
    }

    [Fact]
    public void AnalyzeCorpus_SafetensorsTokenVectors_ShapeNAndTarget()
    {
        using var dir = new TempFolder();
        string input = WriteInput(dir, [JsonLine("A fine film.")]);
        string outDir = dir.File("out");
        var run = Corpus2(TinyClassifier.Directory, "--input", input, "--methods", "saliency,integrated-gradients,chefer", "--steps", "3",
            "--format", "safetensors", "--out-dir", outDir);
        Assert.True(run.ExitCode == 0, run.ToString());
        using var file = SafeTensorsFile.Open(Path.Combine(outDir, "line-000001.safetensors"));
        int n = (int)file.Tensors.Single(t => t.Name == "input_ids").Shape[0];
        Assert.Equal([(long)n], file.Tensors.Single(t => t.Name == "gradient.saliency").Shape);
        Assert.Equal([(long)n], file.Tensors.Single(t => t.Name == "gradient.integrated_gradients").Shape);
        Assert.Equal(3, file.Tensors.Single(t => t.Name == "analysis.chefer").Shape.Length);
        Assert.Equal("3", file.Metadata["steps"]);

        using var model = MixLens.Engine.EncoderModel.Load(TinyClassifier.Directory);
        var encoding = model.Tokenize("A fine film.");
        var inputs = MixLens.Engine.Model.EncoderInput.From(encoding);
        int predicted = MixLens.Analysis.GradientOptions.PredictedClass(model.Encoder, model.Classifier!, inputs);
        Assert.Equal(predicted, (int)file.GetInt64("target")[0]);
        Assert.Equal(model.Classifier!.Labels[predicted], file.Metadata["label"]);
        var expected = MixLens.Analysis.MixingMethods.Compute(MixLens.Analysis.MixingMethod.IntegratedGradients, model.Encoder, inputs,
            gradients: MixLens.Analysis.GradientOptions.ForText(model, encoding, predicted, 3));
        Assert.Equal(expected.Data, file.GetFloat32("gradient.integrated_gradients").ToArray());
    }

    static CliResult Corpus2(string model, params string[] args) =>
        CliHarness.Run(["analyze-corpus", "--model", model.Contains('/') ? model : CliHarness.Model(model), .. args]);

    [Fact]
    public void AnalyzeCorpus_BadLines_ReportedWithLineNumbersSkippedAndCounted()
    {
        using var dir = new TempFolder();
        string longText = string.Join(' ', Enumerable.Repeat("word", 600));
        string input = WriteInput(dir,
        [
            JsonLine("A fine film."),                 // 1
            "{\"text\": \"unterminated",              // 2 invalid JSON
            "{\"label\": 1}",                         // 3 no text
            "{\"text\": \"   \"}",                    // 4 empty text
            "{\"text\": 42}",                         // 5 text not a string
            "[\"text\"]",                             // 6 not an object
            "",                                       // 7 blank
            JsonLine(longText),                       // 8 over-long without --truncate
            JsonLine("good", ""),                     // 9 empty text_pair
            JsonLine("The end."),                     // 10
        ]);
        string output = dir.File("out.jsonl");
        var run = Corpus("--input", input, "--methods", "rollout", "--out", output);
        Assert.True(run.ExitCode == 0, run.ToString());
        CliHarness.AssertNoStackTrace(run.Stderr);

        var expected = new (int Line, string Phrase)[]
        {
            (2, "invalid JSON"), (3, "missing \"text\""), (4, "empty \"text\""), (5, "\"text\" must be a string, found a number"),
            (6, "expected a JSON object"), (7, "blank line"), (8, "602 tokens long"), (9, "empty \"text_pair\""),
        };
        var reports = run.StderrLines;
        Assert.Equal(expected.Length, reports.Length);
        for (int k = 0; k < expected.Length; k++)
        {
            Assert.StartsWith($"mixlens: corpus.jsonl, line {expected[k].Line}: ", reports[k]);
            Assert.Contains(expected[k].Phrase, reports[k]);
            Assert.EndsWith("; skipped", reports[k]);
        }
        Assert.Contains("8 lines skipped (lines 2, 3, 4, 5, 6, 7, 8, 9)", run.Stdout);
        Assert.Contains("analysed 2 of 10 lines", run.Stdout);
        var written = File.ReadAllLines(output).Select(l => { using var d = JsonDocument.Parse(l); return d.RootElement.GetProperty("line").GetInt32(); });
        Assert.Equal([1, 10], written);

        // with --truncate the over-long line is analysed (cut to 512 tokens)
        var truncated = Corpus("--input", input, "--methods", "attention", "--out", dir.File("t.jsonl"), "--truncate");
        Assert.Contains("analysed 3 of 10 lines", truncated.Stdout);
        Assert.DoesNotContain("line 8:", truncated.Stderr);
        using var eight = JsonDocument.Parse(File.ReadAllLines(dir.File("t.jsonl"))[1]);
        Assert.Equal(8, eight.RootElement.GetProperty("line").GetInt32());
        Assert.Equal(512, eight.RootElement.GetProperty("tokens").GetArrayLength());
    }

    [Fact]
    public void AnalyzeCorpus_ResumeAfterTornLastLine_SameBytesAsUninterruptedRun()
    {
        using var dir = new TempFolder();
        var lines = GoodLines().ToList();
        lines.Insert(2, "not json");   // a bad line inside the finished part
        string input = WriteInput(dir, lines);
        string[] methods = ["--methods", "attention,rollout,alti"];
        string reference = dir.File("reference.jsonl");
        var full = Corpus(["--input", input, .. methods, "--out", reference, "--jobs", "1"]);
        Assert.True(full.ExitCode == 0, full.ToString());
        byte[] expected = File.ReadAllBytes(reference);
        var resultLines = File.ReadAllLines(reference);
        Assert.Equal(5, resultLines.Length);

        // an interrupted run: three complete result lines, then half of the fourth (input line 5)
        int keep = resultLines.Take(3).Sum(l => Encoding.UTF8.GetByteCount(l) + 1);
        string output = dir.File("out.jsonl");
        File.WriteAllBytes(output, expected.AsSpan(0, keep + Encoding.UTF8.GetByteCount(resultLines[3]) / 2).ToArray());

        var resumed = Corpus(["--input", input, .. methods, "--out", output, "--resume", "--jobs", "3"]);
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("dropped the incomplete last line", resumed.Stderr);
        Assert.Contains("3 results kept", resumed.Stderr);
        Assert.DoesNotContain("line 3:", resumed.Stderr);   // the bad line lies in the finished part: not reported again
        Assert.Contains("analysed 2 of 6 lines", resumed.Stdout);
        Assert.Contains("4 already done", resumed.Stdout);
        Assert.Equal(expected, File.ReadAllBytes(output));
    }

    [Fact]
    public void AnalyzeCorpus_Resume_DoesNotRecomputeFinishedLines()
    {
        using var dir = new TempFolder();
        string input = WriteInput(dir, GoodLines());
        string output = dir.File("out.jsonl");
        Assert.Equal(0, Corpus("--input", input, "--methods", "rollout", "--out", output).ExitCode);
        var resultLines = File.ReadAllLines(output);

        // Keep two finished lines, one of them marked (a score changed, still valid JSON): a recomputation would restore it.
        using var first = JsonDocument.Parse(resultLines[0]);
        string firstScore = first.RootElement.GetProperty("scores").GetProperty("rollout")[0][0][0].GetRawText();
        string marked = resultLines[0].Replace("[[[" + firstScore + ",", "[[[0.125,");
        Assert.NotEqual(resultLines[0], marked);
        File.WriteAllText(output, marked + "\n" + resultLines[1] + "\n");

        var resumed = Corpus("--input", input, "--methods", "rollout", "--out", output, "--resume");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("analysed 3 of 5 lines", resumed.Stdout);
        var after = File.ReadAllLines(output);
        Assert.Equal([marked, .. resultLines[1..]], after);
    }

    [Fact]
    public void AnalyzeCorpus_ExistingOutputWithoutFlag_RefusedAndUnchanged()
    {
        using var dir = new TempFolder();
        string input = WriteInput(dir, GoodLines().Take(2));
        string output = dir.File("out.jsonl");
        File.WriteAllText(output, "my precious notes\n");
        CliHarness.RunUserError("already holds results; pass --resume", ["analyze-corpus", "--model", Model, "--input", input, "--out", output]);
        Assert.Equal("my precious notes\n", File.ReadAllText(output));
        // --resume on a file that is not ours: refused, unchanged
        CliHarness.RunUserError("is complete but not valid JSON", ["analyze-corpus", "--model", Model, "--input", input, "--out", output, "--resume"]);
        Assert.Equal("my precious notes\n", File.ReadAllText(output));
        // --overwrite replaces it
        var replaced = Corpus("--input", input, "--out", output, "--overwrite");
        Assert.True(replaced.ExitCode == 0, replaced.ToString());
        Assert.Equal(2, File.ReadAllLines(output).Length);
    }

    [Fact]
    public void AnalyzeCorpus_ResumeWithOtherMethodsOrInput_RefusedAndUnchanged()
    {
        using var dir = new TempFolder();
        string input = WriteInput(dir, GoodLines().Take(2));
        string output = dir.File("out.jsonl");
        Assert.Equal(0, Corpus("--input", input, "--methods", "attention", "--out", output).ExitCode);
        byte[] before = File.ReadAllBytes(output);
        CliHarness.RunUserError("holds methods attention, this run asks for rollout",
            ["analyze-corpus", "--model", Model, "--input", input, "--methods", "rollout", "--out", output, "--resume"]);
        string other = WriteInput(dir, [JsonLine("Something else entirely."), JsonLine("And more.")], "other.jsonl");
        CliHarness.RunUserError("its text differs from input line 1",
            ["analyze-corpus", "--model", Model, "--input", other, "--methods", "attention", "--out", output, "--resume"]);
        Assert.Equal(before, File.ReadAllBytes(output));
    }

    [Fact]
    public void AnalyzeCorpus_ParallelJobs_SameBytesAsOneJob()
    {
        using var dir = new TempFolder();
        string input = WriteInput(dir, GoodLines());
        Assert.Equal(0, Corpus("--input", input, "--methods", "value-zeroing,globenc", "--out", dir.File("one.jsonl"), "--jobs", "1").ExitCode);
        Assert.Equal(0, Corpus("--input", input, "--methods", "value-zeroing,globenc", "--out", dir.File("four.jsonl"), "--jobs", "4").ExitCode);
        Assert.Equal(File.ReadAllBytes(dir.File("one.jsonl")), File.ReadAllBytes(dir.File("four.jsonl")));
    }

    [Fact]
    public void AnalyzeCorpus_SafeTensors_RoundTripMatchesJsonlAndFixtures()
    {
        using var dir = new TempFolder();
        var f = ModelFixtures.Load(MiniLm);
        var cases = new[] { f.Case("fox"), f.Case("pair_station") };
        string input = WriteInput(dir, [JsonLine(cases[0].Text), "oops", JsonLine(cases[1].Text, cases[1].TextPair)]);
        string outDir = dir.File("results");
        string[] methods = ["--methods", "attention,rollout,value-zeroing,alti,globenc"];
        var run = Corpus(["--input", input, .. methods, "--format", "safetensors", "--out-dir", outDir]);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("line 2: invalid JSON", run.Stderr);
        Assert.Equal(["line-000001.safetensors", "line-000003.safetensors"],
            Directory.GetFiles(outDir).Select(p => Path.GetFileName(p)!).Order().ToArray());
        Assert.Equal(0, Corpus(["--input", input, .. methods, "--out", dir.File("out.jsonl")]).ExitCode);
        var jsonl = File.ReadAllLines(dir.File("out.jsonl"));

        for (int k = 0; k < 2; k++)
        {
            int line = k == 0 ? 1 : 3;
            using var file = SafeTensorsFile.Open(Path.Combine(outDir, SafeTensorsResultDirectory.FileName(line)));
            using var fixture = SafeTensorsFile.Open(SharedData.Fixtures(MiniLm, cases[k].File));
            using var doc = JsonDocument.Parse(jsonl[k]);
            Assert.Equal(cases[k].Tokens, JsonSerializer.Deserialize<string[]>(file.Metadata["tokens"]));
            Assert.Equal(SafeTensorsResultDirectory.FormatName, file.Metadata["format"]);
            Assert.Equal(line.ToString(), file.Metadata["line"]);
            Assert.Equal(cases[k].Text, file.Metadata["text"]);
            Assert.Equal(cases[k].TextPair, file.Metadata.TryGetValue("text_pair", out var p) ? p : null);
            Assert.Equal(fixture.GetInt64("input_ids"), file.GetInt64("input_ids"));
            Assert.Equal(fixture.GetInt64("token_type_ids"), file.GetInt64("token_type_ids"));
            int L = f.Layers, n = cases[k].NTokens;
            foreach (var method in doc.RootElement.GetProperty("scores").EnumerateObject())
            {
                string name = "analysis." + method.Name.Replace('-', '_');
                var info = file.GetInfo(name);
                Assert.Equal(DType.F32, info.DType);
                Assert.Equal(new long[] { L, n, n }, info.Shape);
                var stored = file.GetFloat32(name).ToArray();
                // bit-equal to the JSONL numbers (shortest round-trip floats)
                var fromJson = method.Value.EnumerateArray().SelectMany(l => l.EnumerateArray()).SelectMany(r => r.EnumerateArray()).Select(v => v.GetSingle()).ToArray();
                Assert.Equal(fromJson, stored);
                Compare.AllClose($"{cases[k].Id} {name}", fixture.GetFloat32(name).Span, stored, [L, n, n], EncoderParityTests.ToleranceFor(f, name));
            }
        }

        // resume: a lost file and an orphaned temporary file of an interrupted write; the kept file is not rewritten
        byte[] third = File.ReadAllBytes(Path.Combine(outDir, "line-000003.safetensors"));
        var firstWritten = File.GetLastWriteTimeUtc(Path.Combine(outDir, "line-000001.safetensors"));
        File.Delete(Path.Combine(outDir, "line-000003.safetensors"));
        File.WriteAllBytes(Path.Combine(outDir, ".line-000003.safetensors.0123abcd.tmp"), [1, 2, 3]);
        CliHarness.RunUserError("already holds 1 result files", ["analyze-corpus", "--model", Model, "--input", input, .. methods, "--format", "safetensors", "--out-dir", outDir]);
        var resumed = Corpus(["--input", input, .. methods, "--format", "safetensors", "--out-dir", outDir, "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("analysed 1 of 3 lines", resumed.Stdout);
        Assert.Contains("removed 1 incomplete temporary file", resumed.Stderr);
        Assert.Equal(third, File.ReadAllBytes(Path.Combine(outDir, "line-000003.safetensors")));
        Assert.Equal(firstWritten, File.GetLastWriteTimeUtc(Path.Combine(outDir, "line-000001.safetensors")));
        Assert.Equal(2, Directory.GetFiles(outDir).Length);
    }

    [Fact]
    public void AnalyzeCorpus_NotATerminal_PlainProgressLinesOnStderr()
    {
        using var dir = new TempFolder();
        string input = WriteInput(dir, GoodLines());
        var run = Corpus("--input", input, "--methods", "attention", "--out", dir.File("out.jsonl"), "--progress-every", "0", "--jobs", "1");
        Assert.True(run.ExitCode == 0, run.ToString());
        // one line after each example but the last (the summary on stdout closes the run)
        var lines = run.StderrLines;
        Assert.Equal(4, lines.Length);
        for (int k = 0; k < 4; k++)
        {
            Assert.Matches($@"^analyze-corpus: {k + 1}/5 lines \({(k + 1) * 20}\.0%\), [0-9.]+ examples/s, ETA [0-9hms]+$", lines[k]);
        }
        Assert.Matches(@"^analysed 5 of 5 lines into .*out\.jsonl: no line skipped; [0-9.]+ s, [0-9.]+ examples/s$", run.StdoutLines.Single());
    }

    [Theory]
    [InlineData("--progress-every must be", new[] { "--input", "IN", "--out", "x", "--progress-every", "-1" })]
    [InlineData("give --out FILE.jsonl", new[] { "--input", "IN" })]
    [InlineData("give --out-dir DIR", new[] { "--input", "IN", "--format", "safetensors" })]
    [InlineData("unknown format 'csv'", new[] { "--input", "IN", "--format", "csv", "--out", "x" })]
    [InlineData("either --resume or --overwrite", new[] { "--input", "IN", "--out", "x", "--resume", "--overwrite" })]
    [InlineData("unknown method 'rolout'", new[] { "--input", "IN", "--out", "x", "--methods", "attention,rolout" })]
    [InlineData("--jobs must be at least 1", new[] { "--input", "IN", "--out", "x", "--jobs", "0" })]
    [InlineData("input file '/nonexistent.jsonl' not found", new[] { "--input", "/nonexistent.jsonl", "--out", "x" })]
    [InlineData("is the input file", new[] { "--input", "IN", "--out", "IN", "--overwrite" })]
    public void AnalyzeCorpus_BadOptions_OneLineError(string phrase, string[] args)
    {
        using var dir = new TempFolder();
        string input = WriteInput(dir, GoodLines().Take(1));
        var resolved = args.Select(a => a == "IN" ? input : a == "x" ? dir.File("x.jsonl") : a).ToArray();
        CliHarness.RunUserError(phrase, ["analyze-corpus", "--model", Model, .. resolved]);
        Assert.Equal(string.Join("\n", GoodLines().Take(1)) + "\n", File.ReadAllText(input));   // the input is untouched
    }
}
