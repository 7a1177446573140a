using System.Text.Json;
using MixLens.Engine.SafeTensors;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Cli;

/// <summary><c>mixlens classify</c> on the SST-2 sentiment classifier.</summary>
public class ClassifyCommandTests
{
    [Fact]
    public void ClassifyJson_ReviewCase_MatchesFixtureLogits()
    {
        var result = CliHarness.RunOk("classify", "--model", CliHarness.Model("minilm-l6-sst2"),
            "--text", "The plot is thin and the acting is worse.", "--format", "json");
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal("negative", json.RootElement.GetProperty("label").GetString());
        var logits = json.RootElement.GetProperty("logits").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        using var expected = SafeTensorsFile.Open(SharedData.Fixtures("heads", "minilm-l6-sst2", "review_neg.safetensors"));
        Compare.AllClose("review_neg logits", expected.GetFloat32("logits").Span, logits, [2], new Tolerance(1e-4, 0));
        var probs = json.RootElement.GetProperty("probs").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(1.0, probs.Sum(), 5);
    }

    [Fact]
    public void ClassifyText_Input_PrintsOneLabelLinePerText()
    {
        using var dir = new TempFolder();
        string path = Path.Combine(dir.Path, "reviews.txt");
        File.WriteAllText(path, "A gorgeous, witty, seductive movie.\nThe plot is thin and the acting is worse.\n");
        var result = CliHarness.RunOk("classify", "--model", CliHarness.Model("minilm-l6-sst2"), "--input", path);
        Assert.Equal(2, result.StdoutLines.Length);
        Assert.StartsWith("positive 0.997", result.StdoutLines[0]);
        Assert.StartsWith("negative 0.995", result.StdoutLines[1]);
    }

    [Fact]
    public void Classify_ModelWithoutHead_FailsWithOneLine() =>
        CliHarness.RunUserError("has no sequence-classification head", "classify", "--model", CliHarness.Model("all-MiniLM-L6-v2"), "--text", "x");

    /// <summary>End to end on all 872 SST-2 dev sentences: the accuracy stated for this checkpoint, 89.3%.</summary>
    [Fact]
    public void Classify_Sst2Dev_ReachesStatedAccuracy()
    {
        var rows = File.ReadAllLines(Path.Combine(SharedData.Root, "data", "sst2-dev.tsv"))
            .Select(l => l.Split('\t')).Where(p => p.Length == 2 && int.TryParse(p[1], out _)).ToArray();
        Assert.Equal(872, rows.Length);
        using var dir = new TempFolder();
        string path = Path.Combine(dir.Path, "sst2.txt");
        File.WriteAllText(path, string.Join('\n', rows.Select(r => r[0])) + "\n");
        var result = CliHarness.RunOk("classify", "--model", CliHarness.Model("minilm-l6-sst2"), "--input", path, "--format", "json");
        var labels = result.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("label").GetString()).ToArray();
        Assert.Equal(rows.Length, labels.Length);
        int correct = rows.Zip(labels).Count(p => (p.First[1] == "1" ? "positive" : "negative") == p.Second);
        double accuracy = (double)correct / rows.Length;
        Assert.True(Math.Abs(accuracy - 0.893) < 0.0015, $"SST-2 dev accuracy {accuracy:P2} ({correct}/{rows.Length}), expected 89.3%");
    }
}
