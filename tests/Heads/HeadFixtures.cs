using System.Text.Json;
using MixLens.Engine;
using MixLens.Engine.SafeTensors;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Heads;

/// <summary>One expected masked-LM candidate of a head fixture's <c>top5</c>.</summary>
public sealed record ExpectedCandidate(string Token, int Id, double Prob);

/// <summary>One case of <c>fixtures/heads/&lt;model&gt;/index.json</c>.</summary>
public sealed record HeadCase(string Id, string Text, string? TextPair, int[] InputIds, string[] Tokens, string File,
    ExpectedCandidate[][] Top5);

/// <summary>The head fixtures of ../shared/fixtures/heads (HF head classes in float64; see ../shared/README.md).</summary>
public static class HeadFixtures
{
    /// <summary>The fixtures' stated tolerance (index.json <c>tolerance_abs</c>).</summary>
    public static double Tolerance(string model) => Index(model).RootElement.GetProperty("tolerance_abs").GetDouble();

    public static IReadOnlyList<HeadCase> Cases(string model) =>
        Index(model).RootElement.GetProperty("cases").EnumerateArray().Select(c => new HeadCase(
            c.GetProperty("id").GetString()!,
            c.GetProperty("text").GetString()!,
            c.GetProperty("text_pair").ValueKind == JsonValueKind.Null ? null : c.GetProperty("text_pair").GetString(),
            c.GetProperty("input_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
            c.GetProperty("tokens").EnumerateArray().Select(x => x.GetString()!).ToArray(),
            c.GetProperty("file").GetString()!,
            c.TryGetProperty("top5", out var top)
                ? top.EnumerateArray().Select(mask => mask.EnumerateArray().Select(e => new ExpectedCandidate(
                    e.GetProperty("token").GetString()!, e.GetProperty("id").GetInt32(), e.GetProperty("prob").GetDouble())).ToArray()).ToArray()
                : [])).ToArray();

    /// <summary>(model, case id) pairs for xunit theories.</summary>
    public static IEnumerable<object[]> CaseIds(string model) => Cases(model).Select(c => new object[] { c.Id });

    public static HeadCase Case(string model, string id) => Cases(model).Single(c => c.Id == id);

    public static SafeTensorsFile Open(string model, HeadCase c) => SafeTensorsFile.Open(SharedData.Fixtures("heads", model, c.File));

    static JsonDocument Index(string model) =>
        JsonDocument.Parse(System.IO.File.ReadAllBytes(SharedData.Fixtures("heads", model, "index.json")));

    /// <summary>Tokenizes a case and checks the ids are the fixture's.</summary>
    public static Engine.Tokenization.Encoding Encode(EncoderModel model, HeadCase c)
    {
        var encoding = model.Tokenize(c.Text, c.TextPair);
        Assert.Equal(c.InputIds, encoding.Ids);
        Assert.Equal(c.Tokens, encoding.Tokens);
        return encoding;
    }
}
