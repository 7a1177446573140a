using System.Security.Cryptography;
using System.Text;

namespace MixLens.Analysis.Visualization;

/// <summary>
/// Writes the views as ONE self-contained HTML file: the template Assets/view.html with the style (view.css) and the
/// script (view.js) inline and the data (<see cref="ViewJson"/>) in a <c>&lt;script type="application/json"&gt;</c>
/// block. The page loads nothing: its Content-Security-Policy meta tag is <see cref="ContentSecurityPolicy"/>,
/// which allows only that one inline script and that one inline style by their SHA-256 hashes and forbids every fetch,
/// frame, font, form and remote image (canvas images are exported through blob: downloads, which CSP does not govern).
/// </summary>
public static class HtmlViewWriter
{
    const string DataMarker = "{{DATA}}";

    /// <summary>The policy for a page whose only inline script and style are <paramref name="script"/> and <paramref name="style"/>.</summary>
    public static string ContentSecurityPolicy(string script, string style) =>
        $"default-src 'none'; script-src '{Hash(script)}'; style-src '{Hash(style)}'; img-src data: blob:; " +
        "connect-src 'none'; font-src 'none'; object-src 'none'; media-src 'none'; frame-src 'none'; worker-src 'none'; " +
        "base-uri 'none'; form-action 'none'";

    /// <summary>Escapes text for an HTML text node (&amp;, &lt;, &gt;, quotes), leaving other characters as they are.</summary>
    static string EscapeText(string text) =>
        text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;");

    /// <summary>CSP source expression of a text: 'sha256-' + base64(SHA-256(UTF-8 bytes)), without the quotes.</summary>
    public static string Hash(string text) => "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>Writes the page to <paramref name="path"/> (created or overwritten).</summary>
    /// <exception cref="IOException">the file cannot be written; <see cref="DirectoryNotFoundException"/> when its folder is missing.</exception>
    public static void Write(string path, ViewData view)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        Write(file, view);
    }

    /// <summary>Writes the page as UTF-8 to <paramref name="output"/>.</summary>
    public static void Write(Stream output, ViewData view)
    {
        string script = ViewAssets.Script, style = ViewAssets.Style;
        if (script.Contains("</script", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException("view.js contains '</script', which would end the inline script early");
        if (style.Contains("</style", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException("view.css contains '</style', which would end the inline style early");

        string template = ViewAssets.Html;
        int at = template.IndexOf(DataMarker, StringComparison.Ordinal);
        if (at < 0) throw new InvalidOperationException($"view.html has no {DataMarker} marker");
        string title = $"MixLens · {view.Model} · {view.TokenCount} tokens";
        string Fill(string part) => part
            .Replace("{{CSP}}", ContentSecurityPolicy(script, style))
            .Replace("{{TITLE}}", EscapeText(title))
            .Replace("{{STYLE}}", style)
            .Replace("{{SCRIPT}}", script);

        using var json = new MemoryStream();
        ViewJson.Write(json, view);
        if (json.GetBuffer().AsSpan(0, (int)json.Length).IndexOf("</"u8) >= 0)
            throw new InvalidOperationException("the view data contains '</', which would end the data script early");

        output.Write(Encoding.UTF8.GetBytes(Fill(template[..at])));
        output.Write(json.GetBuffer(), 0, (int)json.Length);
        output.Write(Encoding.UTF8.GetBytes(Fill(template[(at + DataMarker.Length)..])));
    }
}
