using System.Text.RegularExpressions;

namespace MixLens.Tests.Docs;

/// <summary>
/// The blocks of a docs page that a test regenerates: a marker line <c>&lt;!-- numbers: ID --&gt;</c> (invisible in the
/// rendered page) directly above a fenced code block, whose content (the lines between the fences) is the block.
/// </summary>
public static partial class MarkedBlocks
{
    [GeneratedRegex(@"^<!-- numbers: (?<id>[a-z0-9-]+) -->\n```[a-z]*\n(?<body>(?:(?!```).*\n)*?)```$", RegexOptions.Multiline)]
    private static partial Regex BlockPattern();

    /// <summary>The marked blocks of <paramref name="page"/> by id, each with its content (ending with a newline).</summary>
    /// <exception cref="InvalidOperationException">an id is marked twice.</exception>
    public static IReadOnlyDictionary<string, string> Read(string page)
    {
        var blocks = new Dictionary<string, string>();
        foreach (Match m in BlockPattern().Matches(page.ReplaceLineEndings("\n")))
            if (!blocks.TryAdd(m.Groups["id"].Value, m.Groups["body"].Value))
                throw new InvalidOperationException($"block '{m.Groups["id"].Value}' is marked twice");
        return blocks;
    }

    /// <summary><paramref name="page"/> with the content of each marked block in <paramref name="contents"/> replaced.</summary>
    public static string Replace(string page, IReadOnlyDictionary<string, string> contents) =>
        BlockPattern().Replace(page.ReplaceLineEndings("\n"), m =>
        {
            string id = m.Groups["id"].Value;
            if (!contents.TryGetValue(id, out var body)) return m.Value;
            var bodyGroup = m.Groups["body"];
            return m.Value[..(bodyGroup.Index - m.Index)] + body + m.Value[(bodyGroup.Index - m.Index + bodyGroup.Length)..];
        });
}
