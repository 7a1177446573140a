using System.Xml.Linq;
using MixLens.Analysis.Visualization;
using MixLens.Engine;
using MixLens.Tests.Cli;

namespace MixLens.Tests.Views;

/// <summary>Static SVG heatmaps: well-formed, one per method and layer, coloured on the method's scale.</summary>
public class SvgHeatmapWriterTests(PairPage page) : IClassFixture<PairPage>
{
    static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact]
    public void WriteAll_PairPage_OneWellFormedSvgPerMethodAndLayer()
    {
        using var folder = new TempFolder();
        string dir = folder.File("svg");
        var files = SvgHeatmapWriter.WriteAll(dir, page.View);
        int L = page.View.Layers, n = page.View.TokenCount;
        Assert.Equal(page.View.Methods.Count * L, files.Count);
        foreach (var m in page.View.Methods)
            for (int l = 0; l < L; l++)
            {
                string path = Path.Combine(dir, $"{m.Name}-layer{l}.svg");
                Assert.Contains(path, files);
                var doc = XDocument.Load(path);
                Assert.Equal(Svg + "svg", doc.Root!.Name);
                Assert.Contains(m.Name, doc.Root.Element(Svg + "title")!.Value);
                // The cells: merged runs per row, covering each row's n cells exactly.
                var cells = doc.Descendants(Svg + "g").Single().Elements(Svg + "rect").ToArray();
                Assert.InRange(cells.Length, n, n * n);
                double cell = double.Parse(cells[0].Attribute("height")!.Value, System.Globalization.CultureInfo.InvariantCulture);
                foreach (var row in cells.GroupBy(r => r.Attribute("y")!.Value))
                    Assert.Equal(n * cell, row.Sum(r => double.Parse(r.Attribute("width")!.Value, System.Globalization.CultureInfo.InvariantCulture)), 6);
                // Token labels on both axes, and a legend.
                Assert.Equal(2 * n, doc.Descendants(Svg + "text").Count(t => page.View.Tokens.Contains(t.Value)));
                Assert.Single(doc.Descendants(Svg + "linearGradient"));
            }
    }

    [Fact]
    public void Render_ColoursFollowTheMethodScale()
    {
        // One layer, 2 tokens: values 0, 0.5, 1 over the scale [0, 1] give viridis' ends and middle.
        var view = TinyView(["a", "b"], [0f, 0.5f, 1f, 1f]);
        var doc = XDocument.Parse(SvgHeatmapWriter.Render(view, view.Methods[0], 0, 0f, 1f));
        var fills = doc.Descendants(Svg + "g").Single().Elements(Svg + "rect").Select(r => r.Attribute("fill")!.Value).ToArray();
        Assert.Equal([Viridis.Hex(0), Viridis.Hex(128 / 255.0), Viridis.Hex(1)], fills);
    }

    [Fact]
    public void Render_TokensWithMarkup_AreEscaped()
    {
        var view = TinyView(["<b>", "a&b"], [0f, 1f, 1f, 0f]);
        string svg = SvgHeatmapWriter.Render(view, view.Methods[0], 0, 0f, 1f);
        var doc = XDocument.Parse(svg);
        Assert.Contains(doc.Descendants(Svg + "text"), t => t.Value == "<b>");
        Assert.Contains(doc.Descendants(Svg + "text"), t => t.Value == "a&b");
    }

    static ViewData TinyView(string[] tokens, float[] scores)
    {
        int n = tokens.Length;
        return new ViewData
        {
            Model = "tiny",
            Text = string.Join(" ", tokens),
            Tokens = tokens,
            Segments = new int[n],
            Layers = 1,
            Heads = 1,
            HeadSize = 1,
            Attention = Tensor.Zeros(1, 1, n, n),
            Queries = Tensor.Zeros(1, n, 1),
            Keys = Tensor.Zeros(1, n, 1),
            Methods = [new MethodScores("attention", "test", new Tensor(scores, 1, n, n))],
        };
    }
}
