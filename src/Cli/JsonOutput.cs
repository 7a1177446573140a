using System.Text.Encodings.Web;
using System.Text.Json;
using MixLens.Analysis.Corpus;
using MixLens.Engine;
using MixLens.Engine.Tokenization;

namespace MixLens.Cli;

/// <summary>The JSON documents the commands print (compact, UTF-8, floats in shortest round-trip form).</summary>
public static class JsonOutput
{
    static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary><c>{"model":…, "method":…, "tokens":[…], "scores":[L][n][n]}</c></summary>
    public static void WriteAnalysis(TextWriter output, string model, string method, IReadOnlyList<string> tokens, Tensor scores)
    {
        Write(output, w =>
        {
            w.WriteStartObject();
            w.WriteString("model", model);
            w.WriteString("method", method);
            w.WriteStartArray("tokens");
            foreach (var t in tokens) w.WriteStringValue(t);
            w.WriteEndArray();
            w.WritePropertyName("scores");
            AnalysisJson.WriteScores(w, scores);
            w.WriteEndObject();
        });
    }

    /// <summary><c>{"ids":[…], "tokens":[…], "offsets":[[start,end],…]}</c>, offsets in UTF-16 code units.</summary>
    public static void WriteEncoding(TextWriter output, Encoding encoding)
    {
        Write(output, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("ids");
            foreach (var id in encoding.Ids) w.WriteNumberValue(id);
            w.WriteEndArray();
            w.WriteStartArray("tokens");
            foreach (var t in encoding.Tokens) w.WriteStringValue(t);
            w.WriteEndArray();
            w.WriteStartArray("offsets");
            foreach (var (start, end) in encoding.Offsets)
            {
                w.WriteStartArray();
                w.WriteNumberValue(start);
                w.WriteNumberValue(end);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary><c>{"label":…, "probs":[…], "logits":[…]}</c></summary>
    public static void WriteClassification(TextWriter output, Engine.Heads.Classification result)
    {
        Write(output, w =>
        {
            w.WriteStartObject();
            w.WriteString("label", result.Label);
            w.WriteStartArray("probs");
            foreach (var p in result.Probs) w.WriteNumberValue(p);
            w.WriteEndArray();
            w.WriteStartArray("logits");
            foreach (var l in result.Logits) w.WriteNumberValue(l);
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary><c>{"embedding":[…]}</c></summary>
    public static void WriteEmbedding(TextWriter output, float[] embedding)
    {
        Write(output, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("embedding");
            foreach (var v in embedding) w.WriteNumberValue(v);
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    static void Write(TextWriter output, Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Options)) body(writer);
        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }
}
