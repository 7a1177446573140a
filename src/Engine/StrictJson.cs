using System.Text.Json;
using System.Text.Unicode;

namespace MixLens.Engine;

/// <summary>
/// Parses a JSON file's bytes into a <see cref="JsonDocument"/> after the checks System.Text.Json makes only lazily:
/// <see cref="JsonDocument.Parse(ReadOnlyMemory{byte}, JsonDocumentOptions)"/> accepts invalid UTF-8 inside strings and
/// escapes that are not valid UTF-16 (an unpaired surrogate such as <c>"\ud800"</c>), and the later
/// <see cref="JsonElement.GetString"/> or property lookup then throws <see cref="InvalidOperationException"/> from deep
/// inside a loader. Here both are refused up front as a <see cref="JsonException"/>, the exception every JSON-reading
/// loader already turns into its own error naming the file. A UTF-8 byte-order mark is skipped.
/// </summary>
/// <remarks>Found by fuzzing (tools/fuzz, docs/robustness.md): a config.json or tokenizer.json with one invalid byte in
/// a string made <c>EncoderConfig.Load</c> and the tokenizer loaders throw InvalidOperationException.</remarks>
public static class StrictJson
{
    /// <summary>Parses <paramref name="utf8"/>.</summary>
    /// <exception cref="JsonException">invalid JSON, invalid UTF-8 (the message gives the byte offset), or a string
    /// whose escapes are not valid UTF-16 (the message gives the string's byte offset).</exception>
    public static JsonDocument Parse(ReadOnlyMemory<byte> utf8, JsonDocumentOptions options = default)
    {
        if (utf8.Span.StartsWith("\uFEFF"u8)) utf8 = utf8[3..];
        var span = utf8.Span;
        if (!Utf8.IsValid(span))
            throw new JsonException($"the file is not valid UTF-8 (first invalid byte at offset {FirstInvalidUtf8(span)})");
        var document = JsonDocument.Parse(utf8, options);
        try
        {
            var reader = new Utf8JsonReader(span, new JsonReaderOptions
            {
                AllowTrailingCommas = options.AllowTrailingCommas,
                CommentHandling = options.CommentHandling,
                MaxDepth = options.MaxDepth,
            });
            while (reader.Read())
            {
                if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName) || !reader.ValueIsEscaped) continue;
                try
                {
                    reader.GetString();
                }
                catch (InvalidOperationException)
                {
                    throw new JsonException(
                        $"the string at byte {reader.TokenStartIndex} has an escape that is not valid UTF-16 (an unpaired surrogate such as \\ud800)");
                }
            }
            return document;
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }

    /// <summary>Reads and parses the file at <paramref name="path"/> (see <see cref="Parse"/>).</summary>
    /// <exception cref="JsonException">as <see cref="Parse"/>.</exception>
    /// <exception cref="IOException">the file cannot be read.</exception>
    public static JsonDocument ParseFile(string path, JsonDocumentOptions options = default) =>
        Parse(File.ReadAllBytes(path), options);

    static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        Utf8.ToUtf16(bytes, chars, out int read, out _, replaceInvalidSequences: false);
        return read;
    }
}
