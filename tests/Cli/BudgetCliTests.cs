using System.Text.Json;
using MixLens.Analysis.Cost;
using MixLens.Cli;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Cli;

/// <summary>
/// Heavy requests on the command line: the budget (<c>--max-seconds</c>, <c>--max-memory</c>, <c>--no-budget</c>) refusing
/// a request before it starts, <c>--estimate</c>, flow's <c>--rows</c>, <c>--max-tokens</c>, plain progress lines, and
/// the limits on input sizes.
/// </summary>
public class BudgetCliTests
{
    const string Tiny = "bert-mlm-random";
    const string Text = "the quick brown fox jumps over the lazy dog";

    [Fact]
    public void Analyze_OverTheTimeBudget_RefusedInOneLineWithTheEstimateAndCheaperOptions()
    {
        string line = CliHarness.RunUserError("is estimated at",
            "analyze", "--model", CliHarness.Model(Tiny), "--text", Text, "--method", "flow", "--max-seconds", "0.0000001");
        Assert.Contains("flow on 11 tokens is estimated at about", line);
        Assert.Contains("over the time budget of", line);
        Assert.Contains("--rows 0 (", line);
        Assert.Contains("--flow-layers last (", line);
        Assert.Contains("--no-budget", line);
    }

    [Fact]
    public void Analyze_OverTheMemoryBudget_Refused()
    {
        string line = CliHarness.RunUserError("over the memory budget of 1 KiB",
            "analyze", "--model", CliHarness.Model(Tiny), "--text", Text, "--method", "value-zeroing", "--max-memory", "1K");
        Assert.Contains("value-zeroing on 11 tokens is estimated at", line);
    }

    [Fact]
    public void Analyze_NoBudget_RunsWhatTheBudgetRefuses()
    {
        var result = CliHarness.RunOk("analyze", "--model", CliHarness.Model(Tiny), "--text", Text, "--method", "value-zeroing",
            "--format", "json", "--no-budget");
        Assert.Contains("\"scores\"", result.Stdout);
    }

    [Fact]
    public void Analyze_NoBudgetWithALimit_IsAnError() =>
        CliHarness.RunUserError("--no-budget lifts every limit",
            "analyze", "--model", CliHarness.Model(Tiny), "--text", Text, "--method", "flow", "--no-budget", "--max-seconds", "5");

    [Theory]
    [InlineData("--max-seconds", "0", "--max-seconds must be a positive number")]
    [InlineData("--max-seconds", "-3", "--max-seconds must be a positive number")]
    [InlineData("--max-memory", "lots", "is not a memory size")]
    [InlineData("--max-memory", "0G", "is not a memory size")]
    public void Analyze_BadBudget_IsAnError(string option, string value, string phrase) =>
        CliHarness.RunUserError(phrase, "analyze", "--model", CliHarness.Model(Tiny), "--text", Text, "--method", "flow", option, value);

    [Theory]
    [InlineData("2G", 2L << 30)]
    [InlineData("512M", 512L << 20)]
    [InlineData("1.5GiB", 3L << 29)]
    [InlineData("800kb", 800L << 10)]
    [InlineData("123", 123L)]
    public void ParseSize_Units_AreBinary(string text, long bytes) => Assert.Equal(bytes, BudgetOptions.ParseSize(text));

    [Fact]
    public void Analyze_Estimate_PrintsTheEstimateAndComputesNothing()
    {
        var result = CliHarness.RunOk("analyze", "--model", CliHarness.Model(Tiny), "--text", Text, "--method", "flow", "--estimate");
        var line = Assert.Single(result.StdoutLines);
        Assert.StartsWith("flow on 11 tokens: about ", line);
        Assert.Contains("GFLOP/s", line);
    }

    [Fact]
    public void Analyze_FlowRows_JsonHasNullRowsAndTheRowsList()
    {
        var full = CliHarness.RunOk("analyze", "--model", CliHarness.Model(Tiny), "--text", Text, "--method", "flow", "--format", "json");
        var some = CliHarness.RunOk("analyze", "--model", CliHarness.Model(Tiny), "--text", Text, "--method", "flow", "--format", "json",
            "--rows", "0,3-4");
        using var fullDoc = JsonDocument.Parse(full.Stdout);
        using var someDoc = JsonDocument.Parse(some.Stdout);
        Assert.Equal([0, 3, 4], someDoc.RootElement.GetProperty("rows").EnumerateArray().Select(r => r.GetInt32()));
        Assert.False(fullDoc.RootElement.TryGetProperty("rows", out _));
        var fullScores = fullDoc.RootElement.GetProperty("scores");
        var someScores = someDoc.RootElement.GetProperty("scores");
        int layers = someScores.GetArrayLength(), n = someScores[0].GetArrayLength();
        for (int l = 0; l < layers; l++)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    var v = someScores[l][i][j];
                    if (i is 0 or 3 or 4) Assert.Equal(fullScores[l][i][j].GetSingle(), v.GetSingle());
                    else Assert.Equal(JsonValueKind.Null, v.ValueKind);
                }
    }

    [Fact]
    public void Analyze_FlowRowsInTheTable_SaysWhichRows()
    {
        var result = CliHarness.RunOk("analyze", "--model", CliHarness.Model(Tiny), "--text", Text, "--method", "flow", "--rows", "0");
        Assert.Contains("rows 0 only (the others not computed: nan)", result.Stdout);
    }

    [Theory]
    [InlineData("0,0", "row 0 is given twice")]
    [InlineData("5-3", "runs backwards")]
    [InlineData("11", "row 11 is out of range: the text has tokens 0..10")]
    [InlineData("x", "'x' is not a token index")]
    [InlineData("", "is not a token index")]
    [InlineData("-1", "'-1' is not a token index")]
    public void Analyze_BadRows_IsAnError(string rows, string phrase) =>
        CliHarness.RunUserError(phrase, "analyze", "--model", CliHarness.Model(Tiny), "--text", Text, "--method", "flow", "--rows", rows);

    [Fact]
    public void Analyze_RowsForAnotherMethod_IsAnError() =>
        CliHarness.RunUserError("--rows applies to flow only",
            "analyze", "--model", CliHarness.Model(Tiny), "--text", Text, "--method", "value-zeroing", "--rows", "0");

    [Fact]
    public void Analyze_MaxTokens_CutsTheInput()
    {
        var result = CliHarness.RunOk("analyze", "--model", CliHarness.Model(Tiny), "--text", Text, "--method", "attention",
            "--format", "json", "--max-tokens", "5");
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.Equal(5, doc.RootElement.GetProperty("tokens").GetArrayLength());
    }

    [Fact]
    public void View_OverTheBudget_NamesTheMethodsToLeaveOut()
    {
        string html = Path.Combine(Path.GetTempPath(), $"mixlens-budget-{Guid.NewGuid():N}.html");
        string line = CliHarness.RunUserError("is estimated at",
            "view", "--model", CliHarness.Model(Tiny), "--text", Text, "--out", html, "--methods", "attention,flow,value-zeroing",
            "--max-seconds", "0.0000001");
        Assert.Contains("view of 3 methods on 11 tokens", line);
        Assert.Contains("leaving ", line);
        Assert.False(File.Exists(html));
    }

    [Fact]
    public void WorkProgress_PlainLines_EstimateProgressAndTheTimeTaken()
    {
        var stderr = new StringWriter();
        var estimate = new CostEstimate("flow on 9 tokens", 1e9, 1 << 20, 0.3);
        int result = WorkProgress.RunWithLines(stderr, estimate, progress =>
        {
            for (int k = 1; k <= 6; k++)
            {
                Thread.Sleep(60);
                progress!.Report(k / 6.0);
            }
            return 42;
        }, every: 0.1);
        Assert.Equal(42, result);
        var lines = stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("mixlens: flow on 9 tokens: estimated about 0.3 s and 1 MiB", lines[0].TrimEnd('\r'));
        Assert.Contains(lines, l => l.Contains("% done,") && l.Contains("ETA"));
        Assert.StartsWith("mixlens: flow on 9 tokens: done in ", lines[^1]);
        Assert.Contains("(estimated 0.3 s)", lines[^1]);
    }

    [Fact]
    public void WorkProgress_Failure_IsRethrownOnTheCallingThread()
    {
        var e = Assert.Throws<InvalidOperationException>(() => WorkProgress.RunWithLines<int>(new StringWriter(),
            new CostEstimate("x", 1, 1, 1), _ => throw new InvalidOperationException("boom"), every: 10));
        Assert.Equal("boom", e.Message);
    }

    [Fact]
    public void WorkProgress_Remaining_FromTheRateOnceStarted()
    {
        var estimate = new CostEstimate("x", 1, 1, 100);
        Assert.Equal(90, WorkProgress.Remaining(0, 10, estimate));          // nothing done yet: the estimate
        Assert.Equal(30, WorkProgress.Remaining(0.25, 10, estimate), 9);   // a quarter in 10 s: 30 s more
    }

    // ---- limits on what inputs control -------------------------------------------------------------------------

    [Fact]
    public void Tokenize_TextOverTheLimit_OneLineError()
    {
        using var model = EncoderModel.Load(SharedData.Models("random-bert-tiniest"));
        string huge = new('a', InputLimits.MaxTextChars + 1);
        var e = Assert.Throws<EncoderInputException>(() => model.Tokenize(huge, truncate: true));
        Assert.Contains("over the limit of 4,194,304 characters", e.Message);
        var pair = Assert.Throws<EncoderInputException>(() => model.Tokenizer.Encode(new string('a', InputLimits.MaxTextChars / 2 + 1), new string('b', InputLimits.MaxTextChars / 2)));
        Assert.Contains("before tokenization", pair.Message);
    }

    [Fact]
    public void Load_ConfigNestedTooDeep_OneLineError()
    {
        string dir = CopyModel("random-bert-tiniest");
        try
        {
            string config = File.ReadAllText(Path.Combine(dir, "config.json"));
            string deep = new string('[', 100) + new string(']', 100);
            File.WriteAllText(Path.Combine(dir, "config.json"), config.TrimEnd().TrimEnd('}') + $", \"deep\": {deep}}}");
            string line = CliHarness.RunUserError("invalid JSON", "analyze", "--model", dir, "--text", "hi");
            Assert.Contains("depth", line);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Load_ConfigOverTheSizeLimit_OneLineError()
    {
        string dir = CopyModel("random-bert-tiniest");
        try
        {
            string path = Path.Combine(dir, "config.json");
            string config = File.ReadAllText(path);
            File.WriteAllText(path, config + new string(' ', (int)InputLimits.MaxConfigBytes));
            CliHarness.RunUserError("over the limit of 16,777,216 bytes for a config.json", "analyze", "--model", dir, "--text", "hi");
        }
        finally { Directory.Delete(dir, true); }
    }

    static string CopyModel(string name)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"mixlens-limits-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        foreach (var file in Directory.GetFiles(SharedData.Models(name)))
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        return dir;
    }
}
