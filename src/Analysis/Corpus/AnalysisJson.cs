using System.Text.Encodings.Web;
using System.Text.Json;
using MixLens.Engine;

namespace MixLens.Analysis.Corpus;

/// <summary>
/// The JSON of analyses, shared by <c>mixlens analyze --format json</c> and <c>mixlens analyze-corpus</c> so that both
/// print the same numbers in the same form: compact UTF-8, floats in shortest round-trip form, scores as nested arrays
/// <c>[L][n][n]</c> (<c>scores[l][i][j]</c>, row i = output token, column j = input token), or <c>[n]</c> for a
/// token-vector method (saliency, gradient-x-input, integrated-gradients).
/// </summary>
public static class AnalysisJson
{
    /// <summary>The writer options of every MixLens JSON document (non-ASCII text written as is).</summary>
    public static JsonWriterOptions Options { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes <paramref name="scores"/> [L, n, n] as a nested array value, or a token-vector method's [n]
    /// (<see cref="MixingMethods.IsTokenVector"/>) as a flat array. NaN, which marks an entry not computed (a row left
    /// out with flow's rows), is written as null (JSON has no NaN).</summary>
    public static void WriteScores(Utf8JsonWriter w, Tensor scores)
    {
        if (scores.Rank == 1)
        {
            w.WriteStartArray();
            foreach (float v in scores.Data) Number(w, v);
            w.WriteEndArray();
            return;
        }
        int L = scores.Shape[0], n = scores.Shape[1];
        w.WriteStartArray();
        for (int l = 0; l < L; l++)
        {
            w.WriteStartArray();
            for (int i = 0; i < n; i++)
            {
                w.WriteStartArray();
                for (int j = 0; j < n; j++) Number(w, scores[l, i, j]);
                w.WriteEndArray();
            }
            w.WriteEndArray();
        }
        w.WriteEndArray();
    }

    static void Number(Utf8JsonWriter w, float v)
    {
        if (float.IsFinite(v)) w.WriteNumberValue(v);
        else w.WriteNullValue();
    }

    /// <summary>
    /// One result line of <c>analyze-corpus</c>, UTF-8, ending in <c>\n</c>:
    /// <c>{"line":N,"model":…,"text":…,"text_pair":…,"tokens":[n],"scores":{"method":[L][n][n],…}}</c>
    /// (<c>text_pair</c> only when the example has one; <c>scores</c> keyed by the method names of <c>analyze</c>, in
    /// the requested order, a token-vector method's value <c>[n]</c>); when a method explains a classifier's class,
    /// <c>"target"</c> and <c>"label"</c> (the predicted class) follow the scores, and <c>"steps"</c> when
    /// <paramref name="steps"/> is given.
    /// </summary>
    /// <param name="steps">the --steps of integrated-gradients and attattr (null: their defaults, not written).</param>
    public static byte[] ResultLine(string model, ExampleAnalysis analysis, int? steps = null)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            w.WriteStartObject();
            w.WriteNumber("line", analysis.Example.Line);
            w.WriteString("model", model);
            w.WriteString("text", analysis.Example.Text);
            if (analysis.Example.TextPair is not null) w.WriteString("text_pair", analysis.Example.TextPair);
            w.WriteStartArray("tokens");
            foreach (var t in analysis.Encoding.Tokens) w.WriteStringValue(t);
            w.WriteEndArray();
            w.WriteStartObject("scores");
            foreach (var (method, scores) in analysis.Scores)
            {
                w.WritePropertyName(MixingMethods.NameOf(method));
                WriteScores(w, scores);
            }
            w.WriteEndObject();
            if (analysis.Target is var (id, label))
            {
                w.WriteNumber("target", id);
                w.WriteString("label", label);
            }
            if (steps is int m) w.WriteNumber("steps", m);
            w.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }
}
