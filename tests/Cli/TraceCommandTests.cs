using MixLens.Engine.SafeTensors;
using MixLens.Engine.Tracing;
using MixLens.Tests.Encoder;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Cli;

/// <summary><c>mixlens trace</c>: the written safetensors file against the fixture tensors.</summary>
public class TraceCommandTests
{
    [Theory]
    [InlineData("all-MiniLM-L6-v2", "fox")]
    [InlineData("random-bert-tiniest", "fox")]
    [InlineData("bert-mlm-random", "pair")]
    [InlineData("roberta-random", "pair")]
    [InlineData("distilbert-random", "pair")]
    [InlineData("electra-random", "fox")]
    public void Trace_FixtureCase_WritesEveryTraceNameMatchingFixture(string model, string caseId)
    {
        var fixtures = ModelFixtures.Load(model);
        var c = fixtures.Case(caseId);
        using var temp = new TempFolder();
        string path = temp.File("trace.safetensors");
        var args = new List<string> { "trace", "--model", CliHarness.Model(model), "--text", c.Text, "--out", path };
        if (c.TextPair is not null) args.AddRange(["--text-pair", c.TextPair]);
        var result = CliHarness.RunOk([.. args]);
        Assert.Contains($"({c.NTokens} tokens, {fixtures.Layers} layers)", result.Stdout);

        using var file = SafeTensorsFile.Open(path);
        using var expected = SafeTensorsFile.Open(SharedData.Fixtures(model, c.File));
        var names = TraceNames.All(fixtures.Layers).ToArray();
        Assert.Equal(new[] { "input_ids", "token_type_ids" }.Concat(names).Order(StringComparer.Ordinal),
            file.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));

        foreach (var idName in new[] { "input_ids", "token_type_ids" })
        {
            var info = file.GetInfo(idName);
            Assert.Equal(DType.I64, info.DType);
            Assert.Equal([(long)c.NTokens], info.Shape);
            Assert.Equal(expected.GetInt64(idName), file.GetInt64(idName));
        }

        int n = c.NTokens, d = fixtures.Hidden, H = fixtures.Heads;
        int compared = 0;
        foreach (var name in names)
        {
            var info = file.GetInfo(name);
            Assert.Equal(DType.F32, info.DType);
            long[] shape = name.EndsWith(".scores", StringComparison.Ordinal) || name.EndsWith(".probs", StringComparison.Ordinal)
                ? [H, n, n]
                : name.EndsWith(".intermediate", StringComparison.Ordinal) ? [n, info.Shape[1]] : [n, d];
            Assert.True(shape.SequenceEqual(info.Shape), $"{name}: shape [{string.Join(", ", info.Shape)}], expected [{string.Join(", ", shape)}]");
            if (!expected.Contains(name)) continue;
            var expectedInfo = expected.GetInfo(name);
            Assert.Equal(expectedInfo.Shape, info.Shape);
            Compare.AllClose($"{model}/{caseId} trace {name}", expected.GetFloat32(name).Span, file.GetFloat32(name).Span,
                Array.ConvertAll(info.Shape, x => (int)x), EncoderParityTests.ToleranceFor(fixtures, name));
            compared++;
        }
        // "full" fixtures hold every sub-step
        if (c.Store == "full") Assert.Equal(names.Length, compared);
        Assert.Equal(model, file.Metadata["model"]);
    }

    [Fact]
    public void Trace_IntermediateWidth_IsConfigIntermediateSize()
    {
        using var temp = new TempFolder();
        string path = temp.File("t.safetensors");
        CliHarness.RunOk("trace", "--model", CliHarness.Model("bert-mlm-random"), "--text", "hi", "--out", path);
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal([3L, 64L], file.GetInfo("layers.1.ffn.intermediate").Shape);   // config.json intermediate_size 64
    }

    [Fact]
    public void Trace_OutFolderMissing_FailsNamingTheFolder()
    {
        using var temp = new TempFolder();
        string path = Path.Combine(temp.Path, "no-such-folder", "t.safetensors");
        CliHarness.RunUserError("does not exist",
            "trace", "--model", CliHarness.Model("random-bert-tiniest"), "--text", "hi", "--out", path);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Trace_MissingOut_IsUsageError()
    {
        CliHarness.RunUsageError("--out", "trace", "--model", CliHarness.Model("random-bert-tiniest"), "--text", "hi");
    }
}
