using System.Text.Json;
using MixLens.Analysis.Methods;
using MixLens.Engine.Model;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Cli;

/// <summary><c>mixlens analyze --method value-zeroing --head H</c>: per-head Value Zeroing.</summary>
public class AnalyzeHeadTests
{
    [Fact]
    public void AnalyzeJson_ValueZeroingOneHead_EqualsLibraryPerHeadResult()
    {
        var c = ModelFixtures.Load("bert-mlm-random").Case("fox");
        var result = CliHarness.RunOk("analyze", "--model", CliHarness.Model("bert-mlm-random"), "--text", c.Text,
            "--method", "value-zeroing", "--head", "1", "--format", "json");
        using var json = JsonDocument.Parse(result.Stdout);
        var scores = json.RootElement.GetProperty("scores").EnumerateArray()
            .SelectMany(l => l.EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetSingle()))).ToArray();

        var encoder = ModelFixtures.Encoder("bert-mlm-random");
        var input = new EncoderInput(c.InputIds, c.TokenTypeIds);
        var oneHead = ValueZeroing.Compute(encoder, input, head: 1);
        var allHeads = ValueZeroing.Compute(encoder, input);
        Assert.Equal(oneHead.Data, scores);
        Assert.True(Compare.MaxAbsDiff(oneHead.Data, allHeads.Data) > 1e-3, "zeroing one head should differ from zeroing all heads");
    }

    [Theory]
    [InlineData("value-zeroing", "4", "--head 4 is out of range: the model has heads 0..3")]
    [InlineData("rollout", "0", "--head applies to value-zeroing, value-zeroing-rollout and attattr only")]
    [InlineData("chefer", "0", "--head applies to value-zeroing, value-zeroing-rollout and attattr only")]
    public void Analyze_BadHead_FailsWithOneLine(string method, string head, string message)
    {
        CliHarness.RunUserError(message, "analyze", "--model", CliHarness.Model("bert-mlm-random"), "--text", "hello",
            "--method", method, "--head", head);
    }
}

/// <summary><c>mixlens analyze --method flow --flow-layers last</c>.</summary>
public class AnalyzeFlowLayersTests
{
    [Fact]
    public void AnalyzeJson_FlowLastLayerOnly_MatchesFixtureLastLayerAndLeavesOthersZero()
    {
        var fixtures = ModelFixtures.Load("bert-mlm-random");
        var c = fixtures.Case("fox");
        var result = CliHarness.RunOk("analyze", "--model", CliHarness.Model("bert-mlm-random"), "--text", c.Text,
            "--method", "flow", "--flow-layers", "last", "--format", "json");
        using var json = JsonDocument.Parse(result.Stdout);
        var scores = json.RootElement.GetProperty("scores").EnumerateArray()
            .SelectMany(l => l.EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetSingle()))).ToArray();
        int n = c.NTokens, last = fixtures.Layers - 1;
        var expected = fixtures.Open(c).GetFloat32("analysis.flow").Span;
        Compare.AllClose("flow last layer", expected.Slice(last * n * n, n * n), scores.AsSpan(last * n * n, n * n), [n, n], new Tolerance(1e-5, 0));
        Assert.All(scores.Take(last * n * n), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Analyze_FlowLastWithEarlierLayer_FailsWithOneLine() =>
        CliHarness.RunUserError("--flow-layers last computes only layer 1", "analyze", "--model", CliHarness.Model("bert-mlm-random"),
            "--text", "hello", "--method", "flow", "--flow-layers", "last", "--layer", "0");
}
