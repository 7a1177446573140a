using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MixLens.Analysis.Visualization;

namespace MixLens.Tests.Views;

/// <summary>Reads a written view page back: its parts and the embedded JSON document.</summary>
public static partial class PageReader
{
    public const string DataOpen = "<script type=\"application/json\" id=\"mixlens-data\">";

    /// <summary>Writes <paramref name="view"/> with <see cref="HtmlViewWriter"/> and returns the page text.</summary>
    public static string Render(ViewData view)
    {
        using var buffer = new MemoryStream();
        HtmlViewWriter.Write(buffer, view);
        return new UTF8Encoding(false, true).GetString(buffer.ToArray());
    }

    /// <summary>The embedded data block, parsed.</summary>
    public static JsonDocument Data(string html)
    {
        int start = html.IndexOf(DataOpen, StringComparison.Ordinal);
        Assert.True(start >= 0, "the page has no data block");
        start += DataOpen.Length;
        int end = html.IndexOf("</script>", start, StringComparison.Ordinal);
        Assert.True(end > start, "the data block is not closed");
        return JsonDocument.Parse(html[start..end]);
    }

    /// <summary>The contents of every inline &lt;script&gt; without a type (the executable ones).</summary>
    public static string[] Scripts(string html) => ScriptRegex().Matches(html).Select(m => m.Groups[1].Value).ToArray();

    public static string[] Styles(string html) => StyleRegex().Matches(html).Select(m => m.Groups[1].Value).ToArray();

    /// <summary>The content of the Content-Security-Policy meta tag, or null.</summary>
    public static string? Csp(string html)
    {
        var m = CspRegex().Match(html);
        return m.Success ? m.Groups[1].Value : null;
    }

    [GeneratedRegex("<script>(.*?)</script>", RegexOptions.Singleline)]
    private static partial Regex ScriptRegex();

    [GeneratedRegex("<style>(.*?)</style>", RegexOptions.Singleline)]
    private static partial Regex StyleRegex();

    [GeneratedRegex("<meta http-equiv=\"Content-Security-Policy\" content=\"([^\"]*)\">")]
    private static partial Regex CspRegex();
}
