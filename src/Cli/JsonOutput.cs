using System.Text.Json;
using MixLens.Analysis.Corpus;
using MixLens.Engine;
using MixLens.Engine.Tokenization;

namespace MixLens.Cli;

/// <summary>The JSON documents the commands print (compact, UTF-8, floats in shortest round-trip form).</summary>
public static class JsonOutput
{

    /// <summary>
    /// <c>{"model":…, "method":…, "tokens":[…], "scores":[L][n][n]}</c>, or <c>"scores":[n]</c> for a token-vector
    /// method; a method that explains a classifier's class adds <c>"target"</c> (the class id) and <c>"label"</c>
    /// after the scores, a method with steps <c>"steps"</c>, and integrated gradients its completeness check,
    /// <c>"ig_sum"</c> (Σ_j IG_j) and <c>"ig_gap"</c> (z_c(x) − z_c(x′)), named as in the gradient fixtures.
    /// </summary>
    public static void WriteAnalysis(TextWriter output, string model, string method, IReadOnlyList<string> tokens, Tensor scores,
        ExplainedClass? target = null, int? steps = null, (double Sum, double Gap)? completeness = null, IReadOnlyList<int>? rows = null)
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
            if (rows is not null)
            {
                // the output rows computed (flow's --rows); the others are null in "scores"
                w.WriteStartArray("rows");
                foreach (int i in rows) w.WriteNumberValue(i);
                w.WriteEndArray();
            }
            if (target is not null)
            {
                w.WriteNumber("target", target.Id);
                w.WriteString("label", target.Label);
            }
            if (steps is int m) w.WriteNumber("steps", m);
            if (completeness is var (sum, gap))
            {
                w.WriteNumber("ig_sum", sum);
                w.WriteNumber("ig_gap", gap);
            }
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
            WriteTokensAndOffsets(w, encoding);
            w.WriteEndObject();
        });
    }

    /// <summary>
    /// <c>{"label":…, "function":"softmax"|"sigmoid", "probs":[…], "logits":[…]}</c>, or for a regression head
    /// (<see cref="Engine.Heads.ScoreFunction.None"/>) <c>{"label":…, "function":"none", "score":…, "logits":[…]}</c>.
    /// </summary>
    public static void WriteClassification(TextWriter output, Engine.Heads.Classification result)
    {
        Write(output, w =>
        {
            w.WriteStartObject();
            w.WriteString("label", result.Label);
            w.WriteString("function", result.Function.ToString().ToLowerInvariant());
            if (result.Function == Engine.Heads.ScoreFunction.None)
            {
                w.WriteNumber("score", result.Scores[result.LabelId]);
            }
            else
            {
                w.WriteStartArray("probs");
                foreach (var p in result.Scores) w.WriteNumberValue(p);
                w.WriteEndArray();
            }
            w.WriteStartArray("logits");
            foreach (var l in result.Logits) w.WriteNumberValue(l);
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary><c>{"masks":[[{"token":…, "id":…, "prob":…}, …], …]}</c>: per mask token, in text order, the
    /// candidates best first (token = the vocabulary string).</summary>
    public static void WriteMaskPredictions(TextWriter output, IReadOnlyList<Engine.Heads.MaskPrediction> predictions)
    {
        Write(output, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("masks");
            foreach (var p in predictions)
            {
                w.WriteStartArray();
                foreach (var c in p.Candidates)
                {
                    w.WriteStartObject();
                    w.WriteString("token", c.Token);
                    w.WriteNumber("id", c.Id);
                    w.WriteNumber("prob", c.Prob);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary><c>{"tokens":[…], "offsets":[[start,end],…], "sequence_ids":[…], "labels":[…], "logits":[[…],…]}</c>: one
    /// entry per token (special tokens included), offsets in UTF-16 code units of the text (sequence id 0) or pair (1)
    /// the token came from; special tokens have sequence id null.</summary>
    public static void WriteTokenLabels(TextWriter output, Encoding encoding, Engine.Heads.TokenClassification result)
    {
        Write(output, w =>
        {
            w.WriteStartObject();
            WriteTokensAndOffsets(w, encoding);
            // Which text each token's offsets index: 0 = --text, 1 = --text-pair, null = a special token (HF sequence_ids()).
            w.WriteStartArray("sequence_ids");
            foreach (var id in encoding.SequenceIds)
                if (id is int i) w.WriteNumberValue(i); else w.WriteNullValue();
            w.WriteEndArray();
            w.WriteStartArray("labels");
            foreach (var l in result.Labels) w.WriteStringValue(l);
            w.WriteEndArray();
            w.WriteStartArray("logits");
            for (int t = 0; t < result.Logits.Shape[0]; t++)
            {
                w.WriteStartArray();
                foreach (var v in result.Logits.Row(t)) w.WriteNumberValue(v);
                w.WriteEndArray();
            }
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
        using (var writer = new Utf8JsonWriter(buffer, AnalysisJson.Options)) body(writer);
        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    /// <summary><c>"tokens":[…], "offsets":[[start,end],…]</c> of an encoding (offsets in UTF-16 code units).</summary>
    static void WriteTokensAndOffsets(Utf8JsonWriter w, Encoding encoding)
    {
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
    }
}

/// <summary>The class a gradient method explains: its id and id2label name.</summary>
public sealed record ExplainedClass(int Id, string Label);
