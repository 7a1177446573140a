using System.Xml.Linq;
using MixLens.Analysis.Visualization;
using MixLens.Tests.Cli;

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
        CliHarness.RunOk("view", "--model", CliHarness.Model(Tiny), "--text", "hello", "--out", html, "--methods", "all");
        using (var doc = PageReader.Data(File.ReadAllText(html)))
            Assert.Equal(MixLens.Analysis.MixingMethods.Names, doc.RootElement.GetProperty("methods").EnumerateArray().Select(m => m.GetProperty("name").GetString()!));
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
