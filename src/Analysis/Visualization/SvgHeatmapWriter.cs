using System.Globalization;
using System.Security;
using System.Text;

namespace MixLens.Analysis.Visualization;

/// <summary>
/// Static SVG heatmaps: one file per method and layer, <c>{method}-layer{l}.svg</c>, row i = output token, column
/// j = input token, coloured by <see cref="Viridis"/> over the method's range across all layers (the same scale as
/// the page's method view), with token labels (when n ≤ <see cref="MaxLabelledTokens"/>) and a legend giving the value
/// scale. Horizontal runs of cells with the same 8-bit colour are merged into one rectangle to keep long inputs small.
/// Token-vector methods (one score per token, no layers) get no heatmap.
/// </summary>
public static class SvgHeatmapWriter
{
    /// <summary>Above this many tokens the axes carry no token labels (they would overlap).</summary>
    public const int MaxLabelledTokens = 128;

    /// <summary>Writes every method's heatmaps into <paramref name="directory"/> (created when missing).</summary>
    /// <returns>the paths written, method by method, layer by layer.</returns>
    /// <exception cref="IOException">a file cannot be written.</exception>
    public static IReadOnlyList<string> WriteAll(string directory, ViewData view)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        foreach (var m in view.Methods)
        {
            if (m.IsTokenVector) continue;   // one score per token: no heatmap (the page draws it as a saliency bar)
            var (lo, hi) = Range(m.Scores.Data);
            for (int l = 0; l < view.Layers; l++)
            {
                string path = Path.Combine(directory, $"{m.Name}-layer{l}.svg");
                File.WriteAllText(path, Render(view, m, l, lo, hi), new UTF8Encoding(false));
                written.Add(path);
            }
        }
        return written;
    }

    /// <summary>The minimum and maximum of <paramref name="values"/> (equal ends widened by 1 so the scale is never empty).</summary>
    public static (float Lo, float Hi) Range(ReadOnlySpan<float> values)
    {
        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        foreach (var v in values)
        {
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        if (values.IsEmpty) return (0, 1);
        return hi > lo ? (lo, hi) : (lo, lo + 1);
    }

    /// <summary>The SVG document of layer <paramref name="layer"/> of <paramref name="method"/>, coloured over [lo, hi].</summary>
    public static string Render(ViewData view, MethodScores method, int layer, float lo, float hi)
    {
        int n = view.TokenCount;
        bool labels = n <= MaxLabelledTokens;
        double cell = n <= 32 ? 20 : n <= MaxLabelledTokens ? 10 : Math.Max(1, 1024.0 / n);
        double margin = labels ? 100 : 20, size = cell * n, legendTop = margin + size + 30;
        double width = margin + size + 20, height = legendTop + 50;
        var inv = CultureInfo.InvariantCulture;
        string F(double v) => v.ToString("0.###", inv);

        var sb = new StringBuilder();
        sb.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{F(width)}\" height=\"{F(height)}\" viewBox=\"0 0 {F(width)} {F(height)}\" font-family=\"sans-serif\" font-size=\"{F(Math.Min(12, Math.Max(6, cell * 0.7)))}\">\n");
        sb.Append($"<title>{Escape($"{method.Name}, layer {layer} — {view.Model}")}</title>\n");
        sb.Append($"<desc>{Escape(method.Description)}. Row i: output token; column j: input token. Colour: viridis from {Num(lo)} to {Num(hi)}.</desc>\n");
        sb.Append("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
        sb.Append(inv, $"<text x=\"4\" y=\"14\" font-size=\"13\" font-weight=\"bold\">{Escape($"{method.Name} · layer {layer} · {view.Model}")}</text>\n");

        sb.Append(inv, $"<g shape-rendering=\"crispEdges\" transform=\"translate({F(margin)},{F(margin)})\">\n");
        double range = (double)hi - lo;
        var data = method.Scores.Data;
        int offset = layer * n * n;
        for (int i = 0; i < n; i++)
        {
            int j = 0;
            while (j < n)
            {
                int q = Level(data[offset + i * n + j], lo, range);
                int end = j + 1;
                while (end < n && Level(data[offset + i * n + end], lo, range) == q) end++;
                sb.Append(inv, $"<rect x=\"{F(j * cell)}\" y=\"{F(i * cell)}\" width=\"{F((end - j) * cell)}\" height=\"{F(cell)}\" fill=\"{Viridis.Hex(q / 255.0)}\"/>\n");
                j = end;
            }
        }
        sb.Append("</g>\n");

        if (labels)
        {
            for (int i = 0; i < n; i++)
            {
                string token = Escape(view.Tokens[i]);
                double c = margin + (i + 0.5) * cell;
                sb.Append(inv, $"<text x=\"{F(margin - 4)}\" y=\"{F(c)}\" text-anchor=\"end\" dominant-baseline=\"middle\">{token}</text>\n");
                sb.Append(inv, $"<text transform=\"translate({F(c)},{F(margin - 4)}) rotate(-90)\" dominant-baseline=\"middle\">{token}</text>\n");
            }
        }

        // Legend: the colour scale with its value range.
        sb.Append("<defs><linearGradient id=\"scale\" x1=\"0\" x2=\"1\" y1=\"0\" y2=\"0\">");
        for (int k = 0; k <= 10; k++) sb.Append(inv, $"<stop offset=\"{F(k / 10.0)}\" stop-color=\"{Viridis.Hex(k / 10.0)}\"/>");
        sb.Append("</linearGradient></defs>\n");
        double legendWidth = Math.Min(240, Math.Max(120, size));
        sb.Append(inv, $"<rect x=\"{F(margin)}\" y=\"{F(legendTop)}\" width=\"{F(legendWidth)}\" height=\"12\" fill=\"url(#scale)\" stroke=\"#999\"/>\n");
        sb.Append(inv, $"<text x=\"{F(margin)}\" y=\"{F(legendTop + 26)}\" font-size=\"11\">{Num(lo)}</text>\n");
        sb.Append(inv, $"<text x=\"{F(margin + legendWidth)}\" y=\"{F(legendTop + 26)}\" font-size=\"11\" text-anchor=\"end\">{Num(hi)}</text>\n");
        sb.Append(inv, $"<text x=\"{F(margin)}\" y=\"{F(legendTop - 6)}\" font-size=\"11\">{Escape(method.Name)} (all layers on one scale)</text>\n");
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    static int Level(float v, float lo, double range)
    {
        double t = range > 0 ? (v - (double)lo) / range : 0;
        return (int)Math.Round(Math.Clamp(t, 0, 1) * 255);
    }

    static string Num(float v) => v.ToString("G4", CultureInfo.InvariantCulture);

    /// <summary>XML-escapes text (tokens may hold &lt;, &amp; or quotes) and drops characters XML 1.0 cannot hold.</summary>
    static string Escape(string text)
    {
        var clean = new StringBuilder(text.Length);
        foreach (char c in text)
            if (c is '\t' or '\n' or '\r' || (c >= 0x20 && c != 0xFFFE && c != 0xFFFF)) clean.Append(c);
        return SecurityElement.Escape(clean.ToString());
    }
}
