using System.Text.Encodings.Web;
using System.Text.Json;

namespace MixLens.Analysis.Visualization;

/// <summary>
/// The JSON document embedded in the page (format "mixlens-view", version 2):
/// <code>
/// { "format": "mixlens-view", "version": 2, "model": "...", "text": "...", "textPair": "..." | null,
///   "tokens": [n strings], "segments": [n ints, 0 = sentence A, 1 = sentence B],
///   "layers": L, "heads": H, "headSize": d_head,
///   "target": { "id": c, "label": "..." } | null,
///   "attention": Q8 [L, H, n, n],  "query": Q16 [L, n, d],  "key": Q16 [L, n, d],
///   "methods": [ { "name": "rollout", "description": "...", "kind": "matrix", "signed": false, "scores": Q16 [L, n, n] },
///                { "name": "saliency", "description": "...", "kind": "tokens", "signed": false, "scores": Q16 [1, n] }, ... ] }
/// </code>
/// A <c>"matrix"</c> method has one matrix per layer; a <c>"tokens"</c> method (saliency, gradient-x-input,
/// integrated-gradients) one score per token, stored as a single slice [1, n]; <c>"signed"</c> asks for a diverging
/// colour scale centred on 0. <c>"target"</c>: the class the gradient methods explain (version 1 had neither
/// <c>"kind"</c>, <c>"signed"</c> nor <c>"target"</c>, and only matrix methods).
/// where each Q block is a <see cref="QuantizedTensor"/>: <c>{"shape", "sliceRank": 2, "bits", "min": [slices],
/// "max": [slices], "compression": "deflate-raw" | "none", "chunks": [L base64 strings]}</c>: the quantized bytes
/// cut into one chunk per layer (the first axis), so the page decodes only the layers a view shows, and each chunk
/// compressed with raw DEFLATE (RFC 1951; the page inflates it with the browser's own DecompressionStream) when that
/// saves at least a tenth of the block — it shrinks the mostly-near-zero attention of a 512-token text about
/// four- to six-fold, while the query and key vectors, which do not compress, are stored as they are. Attention uses 8 bits per value (its views are colours and line opacities),
/// the query/key vectors and the methods 16 bits. Strings are escaped by <see cref="JavaScriptEncoder.Default"/>,
/// so '&lt;' is written as \u003C and the document can never close the script element that holds it.
/// </summary>
public static class ViewJson
{
    public const string Format = "mixlens-view";
    public const int Version = 2;
    public const int AttentionBits = 8;
    public const int VectorBits = 16;
    public const int MethodBits = 16;

    static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.Default };

    /// <summary>Writes the document as UTF-8 to <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentException">a tensor holds a non-finite value or has the wrong shape.</exception>
    public static void Write(Stream output, ViewData view)
    {
        int L = view.Layers, H = view.Heads, n = view.TokenCount;
        CheckShape(view.Attention.Shape, [L, H, n, n], "attention");
        CheckShape(view.Queries.Shape, [L, n, H * view.HeadSize], "query");
        CheckShape(view.Keys.Shape, [L, n, H * view.HeadSize], "key");
        if (view.Segments.Length != n) throw new ArgumentException($"segments has {view.Segments.Length} entries for {n} tokens", nameof(view));

        using var w = new Utf8JsonWriter(output, Options);
        w.WriteStartObject();
        w.WriteString("format", Format);
        w.WriteNumber("version", Version);
        w.WriteString("model", view.Model);
        w.WriteString("text", view.Text);
        if (view.TextPair is null) w.WriteNull("textPair");
        else w.WriteString("textPair", view.TextPair);
        w.WriteStartArray("tokens");
        foreach (var t in view.Tokens) w.WriteStringValue(t);
        w.WriteEndArray();
        w.WriteStartArray("segments");
        foreach (var s in view.Segments) w.WriteNumberValue(s);
        w.WriteEndArray();
        w.WriteNumber("layers", L);
        w.WriteNumber("heads", H);
        w.WriteNumber("headSize", view.HeadSize);
        if (view.Target is var (id, label))
        {
            w.WriteStartObject("target");
            w.WriteNumber("id", id);
            w.WriteString("label", label);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("target");
        }
        WriteBlock(w, "attention", QuantizedTensor.Encode(view.Attention, 2, AttentionBits, "attention"));
        WriteBlock(w, "query", QuantizedTensor.Encode(view.Queries, 2, VectorBits, "query"));
        WriteBlock(w, "key", QuantizedTensor.Encode(view.Keys, 2, VectorBits, "key"));
        w.WriteStartArray("methods");
        foreach (var m in view.Methods)
        {
            CheckShape(m.Scores.Shape, m.IsTokenVector ? [n] : [L, n, n], m.Name);
            w.WriteStartObject();
            w.WriteString("name", m.Name);
            w.WriteString("description", m.Description);
            w.WriteString("kind", m.IsTokenVector ? "tokens" : "matrix");
            w.WriteBoolean("signed", m.Signed);
            var scores = m.IsTokenVector ? new Engine.Tensor(m.Scores.Data, 1, n) : m.Scores;   // [n] as one slice [1, n]
            WriteBlock(w, "scores", QuantizedTensor.Encode(scores, m.IsTokenVector ? 1 : 2, MethodBits, m.Name));
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    static void WriteBlock(Utf8JsonWriter w, string name, QuantizedTensor q)
    {
        w.WriteStartObject(name);
        w.WriteStartArray("shape");
        foreach (var s in q.Shape) w.WriteNumberValue(s);
        w.WriteEndArray();
        w.WriteNumber("sliceRank", q.SliceRank);
        w.WriteNumber("bits", q.Bits);
        w.WriteStartArray("min");
        foreach (var v in q.Min) w.WriteNumberValue(v);
        w.WriteEndArray();
        w.WriteStartArray("max");
        foreach (var v in q.Max) w.WriteNumberValue(v);
        w.WriteEndArray();
        int chunks = q.Shape[0], chunkLength = q.Bytes.Length / Math.Max(1, chunks);
        var packed = new byte[chunks][];
        long packedTotal = 0;
        for (int c = 0; c < chunks; c++)
        {
            packed[c] = Deflate(q.Bytes.AsSpan(c * chunkLength, chunkLength));
            packedTotal += packed[c].Length;
        }
        bool compress = packedTotal < 0.9 * q.Bytes.Length;
        w.WriteString("compression", compress ? Compression : "none");
        w.WriteStartArray("chunks");
        for (int c = 0; c < chunks; c++)
            w.WriteBase64StringValue(compress ? packed[c] : q.Bytes.AsSpan(c * chunkLength, chunkLength));
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>The "compression" of every block: raw DEFLATE (RFC 1951), no zlib or gzip header.</summary>
    public const string Compression = "deflate-raw";

    static byte[] Deflate(ReadOnlySpan<byte> bytes)
    {
        using var buffer = new MemoryStream(bytes.Length / 4 + 64);
        using (var deflate = new System.IO.Compression.DeflateStream(buffer, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
            deflate.Write(bytes);
        return buffer.ToArray();
    }

    /// <summary>Inflates one "deflate-raw" chunk (tests and tools reading the page back).</summary>
    public static byte[] Inflate(byte[] compressed)
    {
        using var input = new System.IO.Compression.DeflateStream(new MemoryStream(compressed), System.IO.Compression.CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    static void CheckShape(int[] actual, int[] expected, string name)
    {
        if (!actual.SequenceEqual(expected))
            throw new ArgumentException($"{name} has shape [{string.Join(", ", actual)}], expected [{string.Join(", ", expected)}]");
    }
}
