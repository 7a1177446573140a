using System.IO.Compression;
using System.Text;
using System.Text.Json;
using MixLens.Engine.Tokenization;
using MixLens.Tests.Infrastructure;
using TokenEncoding = MixLens.Engine.Tokenization.Encoding;

namespace MixLens.Tests.Tokenization;

/// <summary>One expected encoding from a HuggingFace fixture (tokenizer JSONL line or encoder index.json case).</summary>
public sealed record ExpectedEncoding(
    string Name,
    string Text,
    string? TextPair,
    int? Truncation,
    int[] Ids,
    string[]? Tokens,
    (int Start, int End)[]? Offsets,
    int[]? TypeIds,
    int[]? SpecialTokensMask,
    int?[]? SequenceIds);

/// <summary>Reads the tokenizer fixtures of ../shared and compares encodings with them.</summary>
public static class TokenizerFixtures
{
    /// <summary>The all-MiniLM-L6-v2 directory, whose tokenizer.json made the bert-base-uncased fixtures.</summary>
    public static string MiniLmDir => SharedData.Models("all-MiniLM-L6-v2");

    static readonly Dictionary<string, WordPieceTokenizer> s_cache = new();

    /// <summary>The tokenizer of a model directory, loaded once per test run.</summary>
    public static WordPieceTokenizer Load(string dir)
    {
        lock (s_cache)
        {
            if (!s_cache.TryGetValue(dir, out var tokenizer)) s_cache[dir] = tokenizer = WordPieceTokenizer.FromDirectory(dir);
            return tokenizer;
        }
    }

    /// <summary>The tokenizers/NAME directory of ../shared (tokenizer files with no model: roberta-base, t5-small).</summary>
    public static string TokenizerDir(string name) => Path.Combine(SharedData.Root, "tokenizers", name);

    static readonly Dictionary<string, ITokenizer> s_factoryCache = new();

    /// <summary>The tokenizer <see cref="TokenizerFactory.Load"/> gives for a directory, loaded once per test run.</summary>
    public static ITokenizer LoadAny(string dir)
    {
        lock (s_factoryCache)
        {
            if (!s_factoryCache.TryGetValue(dir, out var tokenizer)) s_factoryCache[dir] = tokenizer = TokenizerFactory.Load(dir);
            return tokenizer;
        }
    }

    /// <summary>Every line of a gzip JSONL tokenizer fixture (fixtures/tokenizers/NAME).</summary>
    public static List<ExpectedEncoding> ReadJsonl(string name)
    {
        var path = SharedData.Fixtures("tokenizers", name);
        var result = new List<ExpectedEncoding>();
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, System.Text.Encoding.UTF8);
        int lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0) continue;
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            string label = root.TryGetProperty("index", out var index) ? $"{name} line {lineNumber} (index {index.GetInt32()})" : $"{name} line {lineNumber}";
            result.Add(Read(root, label, truncation: null));
        }
        return result;
    }

    /// <summary>The cases of an encoder fixture's index.json (fixtures/MODEL/index.json).</summary>
    public static List<ExpectedEncoding> ReadIndexCases(string model)
    {
        var path = SharedData.Fixtures(model, "index.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var result = new List<ExpectedEncoding>();
        foreach (var item in document.RootElement.GetProperty("cases").EnumerateArray())
        {
            int? truncation = item.TryGetProperty("truncation", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetInt32() : null;
            result.Add(Read(item, $"{model} case {item.GetProperty("id").GetString()}", truncation));
        }
        return result;
    }

    static ExpectedEncoding Read(JsonElement root, string label, int? truncation)
    {
        string? pair = root.TryGetProperty("text_pair", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
        string idsField = root.TryGetProperty("ids", out _) ? "ids" : "input_ids";
        return new ExpectedEncoding(
            label,
            root.GetProperty("text").GetString()!,
            pair,
            truncation,
            root.GetProperty(idsField).EnumerateArray().Select(x => x.GetInt32()).ToArray(),
            root.TryGetProperty("tokens", out var tokens) ? tokens.EnumerateArray().Select(x => x.GetString()!).ToArray() : null,
            root.TryGetProperty("offsets_utf16", out var offsets)
                ? offsets.EnumerateArray().Select(x => (x[0].GetInt32(), x[1].GetInt32())).ToArray()
                : null,
            root.TryGetProperty("token_type_ids", out var types) ? types.EnumerateArray().Select(x => x.GetInt32()).ToArray() : null,
            root.TryGetProperty("special_tokens_mask", out var mask) ? mask.EnumerateArray().Select(x => x.GetInt32()).ToArray() : null,
            root.TryGetProperty("sequence_ids", out var seq)
                ? seq.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.Null ? (int?)null : x.GetInt32()).ToArray()
                : null);
    }

    /// <summary>Null when <paramref name="actual"/> matches every field the fixture has, else a one-line description
    /// of the first difference.</summary>
    public static string? Diff(ExpectedEncoding expected, TokenEncoding actual)
    {
        int n = Math.Max(expected.Ids.Length, actual.Length);
        for (int i = 0; i < n; i++)
        {
            string? what = null;
            if (i >= expected.Ids.Length || i >= actual.Length) what = "length";
            else if (expected.Ids[i] != actual.Ids[i]) what = "id";
            else if (expected.Tokens is not null && expected.Tokens[i] != actual.Tokens[i]) what = "token";
            else if (expected.Offsets is not null && expected.Offsets[i] != actual.Offsets[i]) what = "offsets";
            else if (expected.TypeIds is not null && expected.TypeIds[i] != actual.TypeIds[i]) what = "type id";
            else if (expected.SpecialTokensMask is not null && expected.SpecialTokensMask[i] != actual.SpecialTokensMask[i]) what = "special mask";
            else if (expected.SequenceIds is not null && expected.SequenceIds[i] != actual.SequenceIds[i]) what = "sequence id";
            if (what is null) continue;
            return $"{expected.Name}: {what} differs at token {i} (expected {expected.Ids.Length} tokens, got {actual.Length}); "
                + $"expected {Describe(expected.Ids, expected.Tokens, expected.Offsets, i)}, got {Describe(actual.Ids, actual.Tokens, actual.Offsets, i)}; "
                + $"text {Escape(expected.Text)}" + (expected.TextPair is null ? "" : $" / pair {Escape(expected.TextPair)}");
        }
        return null;
    }

    static string Describe(int[] ids, string[]? tokens, (int, int)[]? offsets, int at)
    {
        var sb = new StringBuilder("[");
        for (int i = Math.Max(0, at - 2); i < Math.Min(ids.Length, at + 3); i++)
        {
            if (sb.Length > 1) sb.Append(", ");
            if (i == at) sb.Append('>');
            sb.Append(ids[i]);
            if (tokens is not null) sb.Append(' ').Append(Escape(tokens[i]));
            if (offsets is not null) sb.Append(' ').Append(offsets[i]);
        }
        return sb.Append(']').ToString();
    }

    /// <summary>A string with non-ASCII and control chars escaped, shortened to 120 chars.</summary>
    public static string Escape(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s.Length > 120 ? s[..120] : s)
            sb.Append(c is >= ' ' and < (char)0x7F ? c.ToString() : $"\\u{(int)c:X4}");
        if (s.Length > 120) sb.Append("...");
        return sb.Append('"').ToString();
    }

    /// <summary>Encodes every case and returns the descriptions of those that differ.</summary>
    public static List<string> Mismatches(ITokenizer tokenizer, IEnumerable<ExpectedEncoding> cases)
    {
        var diffs = new List<string>();
        foreach (var expected in cases)
        {
            string? diff;
            try
            {
                diff = Diff(expected, tokenizer.Encode(expected.Text, expected.TextPair, expected.Truncation));
            }
            catch (Exception e)
            {
                diff = $"{expected.Name}: threw {e.GetType().Name}: {e.Message}";
            }
            if (diff is not null) diffs.Add(diff);
        }
        return diffs;
    }

    /// <summary>An assertion message: how many cases differ and the first few differences.</summary>
    public static string Report(string what, int total, List<string> diffs, int show = 8) =>
        $"{what}: {diffs.Count} of {total} differ ({total - diffs.Count} match). First differences:\n"
        + string.Join("\n", diffs.Take(show));
}
