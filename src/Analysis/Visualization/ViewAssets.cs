using System.Reflection;

namespace MixLens.Analysis.Visualization;

/// <summary>The page's template, script and style: Assets/view.html, view.js, view.css, embedded in this assembly.</summary>
public static class ViewAssets
{
    public static string Html => Read("view.html");
    public static string Script => Read("view.js");
    public static string Style => Read("view.css");

    static string Read(string name)
    {
        string resource = "MixLens.Visualization." + name;
        using var stream = typeof(ViewAssets).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"embedded resource '{resource}' is missing from {typeof(ViewAssets).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8);
        // One line ending everywhere, so the CSP hashes do not depend on how the files were checked out.
        return reader.ReadToEnd().Replace("\r\n", "\n");
    }
}
