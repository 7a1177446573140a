using System.Text;
using System.Text.Json;
using MixLens.Engine;

namespace MixLens.Analysis.Corpus;

/// <summary>One line of a corpus file: either an example or the reason the line cannot be analysed.</summary>
/// <param name="Line">1-based line number in the input file.</param>
public abstract record CorpusEntry(int Line);

/// <summary>A well-formed line: <c>{"text": …, "text_pair": …}</c> (text_pair optional).</summary>
public sealed record CorpusExample(int Line, string Text, string? TextPair) : CorpusEntry(Line);

/// <summary>A line that cannot be analysed, with a message saying why (without the line number).</summary>
public sealed record CorpusLineError(int Line, string Message) : CorpusEntry(Line);

/// <summary>
/// Reads a JSONL corpus: one JSON object per line, <c>{"text": "…", "text_pair": "…"}</c>, <c>text_pair</c> optional
/// (absent or null) and other members ignored. Lines are split on <c>\n</c> (a trailing <c>\r</c> is dropped); a final
/// <c>\n</c> does not start another line. Each line is decoded as strict UTF-8 on its own, so one bad line does not
/// spoil the rest: invalid UTF-8, invalid JSON, a value that is not an object, a missing, non-string or empty
/// (whitespace-only) <c>text</c>, or a non-string or empty <c>text_pair</c> make a <see cref="CorpusLineError"/>.
/// A blank line is an error as well (it holds no example), so that no line disappears silently.
/// </summary>
public static class CorpusInput
{
    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads every line of <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">the file does not exist.</exception>
    public static IReadOnlyList<CorpusEntry> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"input file '{path}' not found", path);
        return Parse(File.ReadAllBytes(path));
    }

    /// <summary>Parses the bytes of a JSONL corpus (see <see cref="CorpusInput"/>).</summary>
    public static IReadOnlyList<CorpusEntry> Parse(ReadOnlySpan<byte> content)
    {
        var entries = new List<CorpusEntry>();
        int line = 0;
        while (content.Length > 0)
        {
            line++;
            int end = content.IndexOf((byte)'\n');
            var bytes = end < 0 ? content : content[..end];
            content = end < 0 ? [] : content[(end + 1)..];
            if (bytes.Length > 0 && bytes[^1] == (byte)'\r') bytes = bytes[..^1];
            if (line == 1 && bytes.StartsWith("\uFEFF"u8)) bytes = bytes[3..];   // a UTF-8 byte-order mark
            entries.Add(ParseLine(line, bytes));
        }
        return entries;
    }

    /// <summary>One line (without its newline) as an example or an error.</summary>
    public static CorpusEntry ParseLine(int line, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Trim(" \t"u8).Length == 0) return new CorpusLineError(line, "blank line (expected a JSON object with \"text\")");
        try
        {
            StrictUtf8.GetCharCount(bytes);
        }
        catch (DecoderFallbackException)
        {
            return new CorpusLineError(line, "not valid UTF-8");
        }
        JsonDocument document;
        try
        {
            document = StrictJson.Parse(bytes.ToArray(), new JsonDocumentOptions { MaxDepth = Engine.InputLimits.MaxJsonDepth });
        }
        catch (JsonException e)
        {
            return new CorpusLineError(line, e.BytePositionInLine is { } at
                ? $"invalid JSON at byte {at + 1} ({FirstSentence(e.Message)})"
                : $"invalid JSON ({FirstSentence(e.Message)})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return new CorpusLineError(line, $"expected a JSON object with \"text\", found {Describe(root.ValueKind)}");
            if (!root.TryGetProperty("text", out var text))
                return new CorpusLineError(line, "missing \"text\"");
            if (text.ValueKind != JsonValueKind.String)
                return new CorpusLineError(line, $"\"text\" must be a string, found {Describe(text.ValueKind)}");
            string value = text.GetString()!;
            if (value.Trim().Length == 0) return new CorpusLineError(line, "empty \"text\"");
            string? pair = null;
            if (root.TryGetProperty("text_pair", out var textPair) && textPair.ValueKind != JsonValueKind.Null)
            {
                if (textPair.ValueKind != JsonValueKind.String)
                    return new CorpusLineError(line, $"\"text_pair\" must be a string or null, found {Describe(textPair.ValueKind)}");
                pair = textPair.GetString()!;
                if (pair.Trim().Length == 0) return new CorpusLineError(line, "empty \"text_pair\" (leave it out for a single text)");
            }
            return new CorpusExample(line, value, pair);
        }
    }

    static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };

    static string FirstSentence(string message)
    {
        // System.Text.Json appends " LineNumber: … | BytePositionInLine: …" and sometimes " Path: …"
        foreach (var marker in new[] { " LineNumber:", " Path:" })
        {
            int cut = message.IndexOf(marker, StringComparison.Ordinal);
            if (cut > 0) message = message[..cut];
        }
        return message.TrimEnd('.', ' ');
    }
}
