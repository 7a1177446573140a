using System.Text.Json;
using System.Xml.Linq;
using MixLens.Analysis;
using MixLens.Analysis.Visualization;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Tests.Cli;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Views;

/// <summary><c>mixlens view</c>: writes the page and SVGs; clear errors for bad arguments.</summary>
public class ViewCommandTests
{
    const string Tiny = "random-bert-tiniest";

    [Fact]
    public void View_TinyModel_WritesPageWithRequestedMethodsAndSvgs()
    {
        using var folder = new TempFolder();
        string html = folder.File("v.html"), svg = folder.File("svg");
        var result = CliHarness.RunOk("view", "--model", CliHarness.Model(Tiny), "--text", "hello world", "--text-pair", "bye",
            "--methods", "rollout, attention", "--out", html, "--svg", svg);
        Assert.Contains($"wrote {html}", result.Stdout);
        Assert.Contains("methods: rollout, attention", result.Stdout);
        using var doc = PageReader.Data(File.ReadAllText(html));
        var root = doc.RootElement;
        Assert.Equal(Tiny, root.GetProperty("model").GetString());
        Assert.Equal(["rollout", "attention"], root.GetProperty("methods").EnumerateArray().Select(m => m.GetProperty("name").GetString()!));
        int L = root.GetProperty("layers").GetInt32();
        Assert.Equal(2 * L, Directory.GetFiles(svg, "*.svg").Length);
        foreach (var f in Directory.GetFiles(svg)) Assert.Equal("svg", XDocument.Load(f).Root!.Name.LocalName);
    }

    [Fact]
    public void View_DefaultAndAllMethods()
    {
        using var folder = new TempFolder();
        string html = folder.File("v.html");
        CliHarness.RunOk("view", "--model", CliHarness.Model(Tiny), "--text", "hello", "--out", html);
        using (var doc = PageReader.Data(File.ReadAllText(html)))
            Assert.Equal(["attention", "rollout", "attention-norm", "alti", "alti-rollout", "globenc", "globenc-rollout"],
                doc.RootElement.GetProperty("methods").EnumerateArray().Select(m => m.GetProperty("name").GetString()!));
        // 'all' on a model without a classifier head: every method but those that explain a classifier's class
        CliHarness.RunOk("view", "--model", CliHarness.Model(Tiny), "--text", "hello", "--out", html, "--methods", "all");
        using (var doc = PageReader.Data(File.ReadAllText(html)))
        {
            Assert.Equal(MixingMethods.Names.Where(n => MixingMethods.TryParse(n, out var m) && !MixingMethods.NeedsClassifier(m)),
                doc.RootElement.GetProperty("methods").EnumerateArray().Select(m => m.GetProperty("name").GetString()!));
            Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("target").ValueKind);
        }
        // and on a classifier: every method
        CliHarness.RunOk("view", "--model", TinyClassifier.Directory, "--text", "hello", "--out", html, "--methods", "all", "--steps", "3");
        using (var doc = PageReader.Data(File.ReadAllText(html)))
            Assert.Equal(MixingMethods.Names, doc.RootElement.GetProperty("methods").EnumerateArray().Select(m => m.GetProperty("name").GetString()!));
    }

    [Fact]
    public void View_GradientMethods_TokenScoresAndMatricesEqualComputeWithinQuantization()
    {
        using var folder = new TempFolder();
        string html = folder.File("v.html");
        string model = CliHarness.Model("minilm-l6-sst2"), text = "a gorgeous, witty movie.";
        var result = CliHarness.RunOk("view", "--model", model, "--text", text, "--methods", "saliency,integrated-gradients,chefer,rollout",
            "--steps", "4", "--target", "negative", "--out", html);
        Assert.Contains("methods: saliency, integrated-gradients, chefer, rollout; target 0 (negative)", result.Stdout);
        using var doc = PageReader.Data(File.ReadAllText(html));
        var root = doc.RootElement;
        Assert.Equal(0, root.GetProperty("target").GetProperty("id").GetInt32());
        Assert.Equal("negative", root.GetProperty("target").GetProperty("label").GetString());

        using var encoderModel = EncoderModel.Load(model);
        var encoding = encoderModel.Tokenize(text);
        var input = EncoderInput.From(encoding);
        var gradients = GradientOptions.ForText(encoderModel, encoding, 0, 4);
        int n = encoding.Length, L = encoderModel.Config.NumHiddenLayers;
        foreach (var m in root.GetProperty("methods").EnumerateArray())
        {
            Assert.True(MixingMethods.TryParse(m.GetProperty("name").GetString()!, out var method));
            bool vector = MixingMethods.IsTokenVector(method);
            Assert.Equal(vector ? "tokens" : "matrix", m.GetProperty("kind").GetString());
            Assert.Equal(method == MixingMethod.IntegratedGradients, m.GetProperty("signed").GetBoolean());
            var q = QuantizedTensor.FromJson(m.GetProperty("scores"));
            Assert.Equal(vector ? [1, n] : [L, n, n], q.Shape);
            var decoded = q.Decode();
            var computed = MixingMethods.Compute(method, encoderModel.Encoder, input, gradients: gradients);
            double bound = Enumerable.Range(0, q.SliceCount).Max(q.MaxError) + 1e-6;
            double diff = Compare.MaxAbsDiff(computed.Data, decoded.Data);
            Assert.True(diff <= bound, $"{method}: max |diff| {diff:G3} over the quantization bound {bound:G3}");
        }
    }

    [Fact]
    public void View_TokenMethodsOnly_NoSvgHeatmapForThem()
    {
        using var folder = new TempFolder();
        string svg = folder.File("svg");
        var result = CliHarness.RunOk("view", "--model", TinyClassifier.Directory, "--text", "a b c", "--methods", "saliency,chefer", "--svg", svg);
        Assert.All(Directory.GetFiles(svg).Select(Path.GetFileName), f => Assert.StartsWith("chefer-layer", f));
    }

    [Fact]
    public void View_ClassifierMethodOnModelWithoutHead_IsAUserError()
    {
        using var folder = new TempFolder();
        string line = CliHarness.RunUserError("saliency explains the class of a sequence classifier, and random-bert-tiniest has none",
            "view", "--model", CliHarness.Model(Tiny), "--text", "hello", "--methods", "rollout,saliency", "--out", folder.File("v.html"));
        Assert.Contains("no sequence-classification head", line);
        Assert.False(File.Exists(folder.File("v.html")));
    }

    [Theory]
    [InlineData("--target", "7", "--target 7 is not a class of")]
    [InlineData("--steps", "0", "--steps must be at least 1, not 0")]
    public void View_BadGradientOption_IsAUserError(string option, string value, string message)
    {
        using var folder = new TempFolder();
        CliHarness.RunUserError(message, "view", "--model", TinyClassifier.Directory, "--text", "hello", "--methods", "saliency",
            option, value, "--out", folder.File("v.html"));
    }

    [Fact]
    public void View_HtaOverItsTokenLimit_IsAUserErrorUnlessTruncated()
    {
        using var folder = new TempFolder();
        string html = folder.File("v.html"), text = "one two three four five six seven eight nine ten";
        string line = CliHarness.RunUserError("hta on 12 tokens is over --hta-max-tokens 6", "view", "--model", CliHarness.Model("roberta-random"),
            "--text", text, "--methods", "attention,hta", "--hta-max-tokens", "6", "--out", html);
        Assert.Contains("leave hta out of --methods", line);
        CliHarness.RunOk("view", "--model", CliHarness.Model("roberta-random"), "--text", text, "--methods", "attention,hta",
            "--hta-max-tokens", "6", "--truncate", "--out", html);
        using var doc = PageReader.Data(File.ReadAllText(html));
        Assert.Equal(6, doc.RootElement.GetProperty("tokens").GetArrayLength());
    }

    [Fact]
    public void View_SvgOnly_WritesHeatmapsAndNoPage()
    {
        using var folder = new TempFolder();
        string svg = folder.File("svg");
        var result = CliHarness.RunOk("view", "--model", CliHarness.Model(Tiny), "--text", "a b c", "--methods", "alti", "--svg", svg);
        Assert.DoesNotContain(".html", result.Stdout);
        var files = Directory.GetFiles(svg).Select(Path.GetFileName).Order().ToArray();
        Assert.NotEmpty(files);
        Assert.All(files, f => Assert.Matches(@"^alti-layer\d+\.svg$", f));
        Assert.Empty(Directory.GetFiles(folder.Path, "*.html"));
    }

    [Fact]
    public void View_NoOutput_IsAUserError() =>
        CliHarness.RunUserError("give --out FILE.html", "view", "--model", CliHarness.Model(Tiny), "--text", "hello");

    [Fact]
    public void View_UnknownMethod_IsAUserErrorListingTheMethods()
    {
        using var folder = new TempFolder();
        string line = CliHarness.RunUserError("unknown method 'rolout'", "view", "--model", CliHarness.Model(Tiny), "--text", "hello",
            "--methods", "attention,rolout", "--out", folder.File("v.html"));
        Assert.Contains("value-zeroing", line);
        Assert.False(File.Exists(folder.File("v.html")));
    }

    [Fact]
    public void View_MethodTwice_IsAUserError()
    {
        using var folder = new TempFolder();
        CliHarness.RunUserError("listed twice", "view", "--model", CliHarness.Model(Tiny), "--text", "hello",
            "--methods", "alti,ALTI", "--out", folder.File("v.html"));
    }

    [Fact]
    public void View_OutInMissingFolder_IsAUserError()
    {
        using var folder = new TempFolder();
        CliHarness.RunUserError("does not exist", "view", "--model", CliHarness.Model(Tiny), "--text", "hello",
            "--out", Path.Combine(folder.Path, "no", "v.html"));
    }

    [Fact]
    public void View_MissingModel_IsAUserError()
    {
        using var folder = new TempFolder();
        CliHarness.RunUserError("not found", "view", "--model", folder.File("nothing"), "--text", "hello", "--out", folder.File("v.html"));
    }

    [Fact]
    public void View_MissingText_IsAUsageError() =>
        CliHarness.RunUsageError("--text", "view", "--model", CliHarness.Model(Tiny), "--out", "x.html");

    [Fact]
    public void Assets_AreEmbedded()
    {
        Assert.Contains("{{DATA}}", ViewAssets.Html);
        Assert.Contains("mixlens-data", ViewAssets.Script);
        Assert.Contains(".head-toggle", ViewAssets.Style);
    }
}
