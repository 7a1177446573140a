using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MixLens.Analysis;
using MixLens.Analysis.Visualization;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Tests.Encoder;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Views;

/// <summary>One sentence-pair page of all-MiniLM-L6-v2 (fixture case pair_station), built once for the tests below.</summary>
public sealed class PairPage : IDisposable
{
    public const string Model = "all-MiniLM-L6-v2";
    public static readonly MixingMethod[] Methods = [MixingMethod.Attention, MixingMethod.Rollout, MixingMethod.Alti, MixingMethod.GlobEncRollout];

    public ModelFixtures Fixtures { get; } = ModelFixtures.Load(Model);
    public FixtureCase Case { get; }
    public EncoderModel EncoderModel { get; }
    public ViewData View { get; }
    public string Html { get; }

    public PairPage()
    {
        Case = Fixtures.Case("pair_station");
        EncoderModel = EncoderModel.Load(SharedData.Models(Model));
        var encoding = EncoderModel.Tokenize(Case.Text, Case.TextPair);
        View = ViewBuilder.Build(EncoderModel.Encoder, EncoderModel.Name, encoding, Case.Text, Case.TextPair, Methods);
        Html = PageReader.Render(View);
    }

    public void Dispose() => EncoderModel.Dispose();
}

/// <summary>The page: its embedded data equals the analysis results, and it is self-contained and locked down.</summary>
public class ViewPageTests(PairPage page) : IClassFixture<PairPage>
{
    [Fact]
    public void Data_TokensSegmentsAndSizes_MatchTheFixture()
    {
        using var doc = PageReader.Data(page.Html);
        var root = doc.RootElement;
        var c = page.Case;
        Assert.Equal(ViewJson.Format, root.GetProperty("format").GetString());
        Assert.Equal(ViewJson.Version, root.GetProperty("version").GetInt32());
        Assert.Equal(PairPage.Model, root.GetProperty("model").GetString());
        Assert.Equal(c.Text, root.GetProperty("text").GetString());
        Assert.Equal(c.TextPair, root.GetProperty("textPair").GetString());
        Assert.Equal(c.Tokens, root.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToArray());
        Assert.Equal(c.TokenTypeIds, root.GetProperty("segments").EnumerateArray().Select(t => t.GetInt32()).ToArray());
        Assert.Contains(1, c.TokenTypeIds);
        Assert.Equal(page.Fixtures.Layers, root.GetProperty("layers").GetInt32());
        Assert.Equal(page.Fixtures.Heads, root.GetProperty("heads").GetInt32());
        Assert.Equal(page.Fixtures.Hidden / page.Fixtures.Heads, root.GetProperty("headSize").GetInt32());
    }

    [Fact]
    public void Data_Attention_EqualsTheReferenceProbsWithinQuantization()
    {
        using var doc = PageReader.Data(page.Html);
        var q = QuantizedTensor.FromJson(doc.RootElement.GetProperty("attention"));
        int L = page.Fixtures.Layers, H = page.Fixtures.Heads, n = page.Case.NTokens;
        Assert.Equal([L, H, n, n], q.Shape);
        Assert.Equal(ViewJson.AttentionBits, q.Bits);
        var decoded = q.Decode();
        var reference = page.Fixtures.Open(page.Case);
        var tol = EncoderParityTests.ToleranceFor(page.Fixtures, "layers.0.attention.probs");
        for (int l = 0; l < L; l++)
        {
            var expected = reference.GetFloat32($"layers.{l}.attention.probs").Span;
            Assert.Equal(H * n * n, expected.Length);
            for (int h = 0; h < H; h++)
            {
                int s = l * H + h;
                var slice = decoded.Data.AsSpan(s * n * n, n * n);
                Compare.AllClose($"page attention layer {l} head {h}", expected.Slice(h * n * n, n * n), slice, [n, n],
                    tol with { Atol = tol.Atol + q.MaxError(s) + 1e-7 });
                // And against the engine's own probs at the stated bound.
                var own = page.View.Attention.Data.AsSpan(s * n * n, n * n);
                Assert.True(Compare.MaxAbsDiff(own, slice) <= q.MaxError(s) + 1e-7, $"layer {l} head {h}: off by more than the quantization bound");
                Assert.True(q.MaxError(s) <= 1.0 / 510 + 1e-9, "8-bit probabilities: error at most 1/510");
            }
        }
    }

    [Fact]
    public void Data_QueryAndKey_EqualTheTracedVectorsWithinQuantization()
    {
        using var doc = PageReader.Data(page.Html);
        int L = page.Fixtures.Layers, n = page.Case.NTokens, d = page.Fixtures.Hidden;
        var reference = page.Fixtures.Open(page.Case);
        var tol = EncoderParityTests.ToleranceFor(page.Fixtures, "layers.0.attention.query");
        foreach (var (property, step) in new[] { ("query", "query"), ("key", "key") })
        {
            var q = QuantizedTensor.FromJson(doc.RootElement.GetProperty(property));
            Assert.Equal([L, n, d], q.Shape);
            Assert.Equal(ViewJson.VectorBits, q.Bits);
            var decoded = q.Decode();
            for (int l = 0; l < L; l++)
            {
                var expected = reference.GetFloat32($"layers.{l}.attention.{step}").Span;
                Compare.AllClose($"page {property} layer {l}", expected, decoded.Data.AsSpan(l * n * d, n * d), [n, d],
                    tol with { Atol = tol.Atol + q.MaxError(l) + 1e-6 });
            }
        }
    }

    /// <summary>The neuron view's scores q·k/√d_head, recomputed from the page's query and key vectors as view.js does,
    /// equal the traced pre-softmax scores within the error the 16-bit rounding can cause.</summary>
    [Fact]
    public void Data_NeuronViewScoresFromPageVectors_EqualTracedScores()
    {
        using var doc = PageReader.Data(page.Html);
        var qt = QuantizedTensor.FromJson(doc.RootElement.GetProperty("query"));
        var kt = QuantizedTensor.FromJson(doc.RootElement.GetProperty("key"));
        var Q = qt.Decode().Data;
        var K = kt.Decode().Data;
        int L = page.Fixtures.Layers, H = page.Fixtures.Heads, n = page.Case.NTokens, d = page.Fixtures.Hidden, dh = d / H;
        var reference = page.Fixtures.Open(page.Case);
        double worst = 0;
        for (int l = 0; l < L; l++)
        {
            var scores = reference.GetFloat32($"layers.{l}.attention.scores").Span;
            double eq = qt.MaxError(l), ek = kt.MaxError(l);
            for (int h = 0; h < H; h++)
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < n; j++)
                    {
                        double s = 0, bound = 0;
                        for (int c = h * dh; c < (h + 1) * dh; c++)
                        {
                            double q = Q[(l * n + i) * d + c], k = K[(l * n + j) * d + c];
                            s += q * k;
                            bound += Math.Abs(q) * ek + Math.Abs(k) * eq + eq * ek;
                        }
                        s /= Math.Sqrt(dh);
                        bound = bound / Math.Sqrt(dh) + 1e-4 * (1 + Math.Abs(s));
                        double diff = Math.Abs(s - scores[(h * n + i) * n + j]);
                        Assert.True(diff <= bound, $"layer {l} head {h} [{i},{j}]: page score {s:G6}, traced {scores[(h * n + i) * n + j]:G6}, bound {bound:G3}");
                        worst = Math.Max(worst, diff);
                    }
        }
        Assert.True(worst < 0.05, $"max |score diff| {worst:G3}");
    }

    [Fact]
    public void Data_Methods_EqualTheAnalysisResultsWithinQuantization()
    {
        using var doc = PageReader.Data(page.Html);
        var methods = doc.RootElement.GetProperty("methods").EnumerateArray().ToArray();
        Assert.Equal(PairPage.Methods.Select(MixingMethods.NameOf), methods.Select(m => m.GetProperty("name").GetString()));
        int L = page.Fixtures.Layers, n = page.Case.NTokens;
        var input = EncoderInput.From(page.EncoderModel.Tokenize(page.Case.Text, page.Case.TextPair));
        var reference = page.Fixtures.Open(page.Case);
        for (int k = 0; k < methods.Length; k++)
        {
            var method = PairPage.Methods[k];
            string name = MixingMethods.NameOf(method);
            Assert.Equal(MixingMethods.Describe(method), methods[k].GetProperty("description").GetString());
            var q = QuantizedTensor.FromJson(methods[k].GetProperty("scores"));
            Assert.Equal([L, n, n], q.Shape);
            var decoded = q.Decode();
            // Against MixingMethods.Compute run on its own (a fresh forward pass), at the quantization bound.
            var computed = MixingMethods.Compute(method, page.EncoderModel.Encoder, input);
            for (int l = 0; l < L; l++)
            {
                double diff = Compare.MaxAbsDiff(computed.Data.AsSpan(l * n * n, n * n), decoded.Data.AsSpan(l * n * n, n * n));
                Assert.True(diff <= q.MaxError(l) + 1e-6, $"{name} layer {l}: max |diff| {diff:G3} over the bound {q.MaxError(l):G3}");
            }
            // Against the golden reference, at its tolerance plus the quantization bound.
            string fixtureName = "analysis." + name.Replace('-', '_');
            var tol = EncoderParityTests.ToleranceFor(page.Fixtures, fixtureName);
            double bound = Enumerable.Range(0, L).Max(q.MaxError);
            Compare.AllClose($"page {name}", reference.GetFloat32(fixtureName).Span, decoded.Data, [L, n, n],
                tol with { Atol = tol.Atol + bound + 1e-6, AtolOfMax = tol.AtolOfMax > 0 ? tol.AtolOfMax + bound / Math.Max(1e-12, decoded.Data.Max(Math.Abs)) : 0 });
        }
    }

    [Fact]
    public void Page_CspMetaTag_AllowsOnlyTheInlineScriptAndStyleByHash()
    {
        string? csp = PageReader.Csp(page.Html);
        Assert.NotNull(csp);
        var directives = csp!.Split(';', StringSplitOptions.TrimEntries).ToDictionary(d => d.Split(' ')[0], d => d);
        Assert.Equal("default-src 'none'", directives["default-src"]);
        Assert.Equal("connect-src 'none'", directives["connect-src"]);
        Assert.Equal("base-uri 'none'", directives["base-uri"]);
        Assert.Equal("form-action 'none'", directives["form-action"]);
        Assert.DoesNotContain("unsafe", csp);
        Assert.DoesNotContain("http", csp);

        var scripts = PageReader.Scripts(page.Html);
        var styles = PageReader.Styles(page.Html);
        Assert.Single(scripts);
        Assert.Single(styles);
        string Sha(string s) => "sha256-" + System.Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(s)));
        Assert.Equal($"script-src '{Sha(scripts[0])}'", directives["script-src"]);
        Assert.Equal($"style-src '{Sha(styles[0])}'", directives["style-src"]);
        // The meta tag comes before anything it governs.
        Assert.True(page.Html.IndexOf("Content-Security-Policy", StringComparison.Ordinal) < page.Html.IndexOf("<style>", StringComparison.Ordinal));
    }

    [Fact]
    public void Page_ReferencesNoUrlAndLoadsNoResource()
    {
        Assert.DoesNotMatch(new Regex("https?://", RegexOptions.IgnoreCase), page.Html);
        Assert.DoesNotMatch(new Regex(@"<(link|iframe|img|object|embed|base)\b", RegexOptions.IgnoreCase), page.Html);
        Assert.DoesNotMatch(new Regex(@"\ssrc\s*=", RegexOptions.IgnoreCase), page.Html);
        Assert.DoesNotMatch(new Regex(@"\son[a-z]+\s*=", RegexOptions.IgnoreCase), page.Html);
        Assert.DoesNotMatch(new Regex(@"\sstyle\s*=", RegexOptions.IgnoreCase), page.Html);
        Assert.DoesNotContain("import(", page.Html);
        Assert.DoesNotContain("XMLHttpRequest", page.Html);
    }

    [Fact]
    public void Page_IsOneDocumentWithTheDataLast()
    {
        Assert.StartsWith("<!DOCTYPE html>", page.Html);
        Assert.Equal(1, Regex.Matches(page.Html, "<html").Count);
        Assert.Equal(2, Regex.Matches(page.Html, "</script>").Count);
        Assert.DoesNotContain("{{", page.Html[..page.Html.IndexOf(PageReader.DataOpen, StringComparison.Ordinal)]);
        Assert.Contains("<title>MixLens · all-MiniLM-L6-v2 · 19 tokens</title>", page.Html);
    }

    [Fact]
    public void Page_TextThatClosesTheScript_StaysInsideTheData()
    {
        const string hostile = "</script><script>alert(1)</script> <!-- & \u2028 é";
        var view = new ViewData
        {
            Model = "m</title>",
            Text = hostile,
            TextPair = null,
            Tokens = ["[CLS]", "</script>", "[SEP]"],
            Segments = [0, 0, 0],
            Layers = 1,
            Heads = 1,
            HeadSize = 2,
            Attention = new Tensor(Enumerable.Repeat(1f / 3, 9).ToArray(), 1, 1, 3, 3),
            Queries = Tensor.Zeros(1, 3, 2),
            Keys = Tensor.Zeros(1, 3, 2),
            Methods = [],
        };
        string html = PageReader.Render(view);
        Assert.Equal(2, Regex.Matches(html, "</script>").Count);
        Assert.Contains("<title>MixLens · m&lt;/title&gt; · 3 tokens</title>", html);
        using var doc = PageReader.Data(html);
        Assert.Equal(hostile, doc.RootElement.GetProperty("text").GetString());
        Assert.Equal("</script>", doc.RootElement.GetProperty("tokens")[1].GetString());
    }

    [Fact]
    public void Build_SameMethodTwice_IsAnError()
    {
        var encoding = page.EncoderModel.Tokenize("hello");
        var e = Assert.Throws<ArgumentException>(() => ViewBuilder.Build(page.EncoderModel.Encoder, "m", encoding, "hello", null,
            [MixingMethod.Rollout, MixingMethod.Rollout]));
        Assert.Contains("rollout", e.Message);
    }
}
