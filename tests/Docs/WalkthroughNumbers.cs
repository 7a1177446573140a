using MixLens.Analysis.Methods;
using MixLens.Engine;
using MixLens.Engine.Interventions;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;
using MixLens.Kernels;

namespace MixLens.Tests.Docs;

/// <summary>
/// The numbers of docs/walkthrough.md: one forward pass of all-MiniLM-L6-v2 on <see cref="Sentence"/>, followed through
/// layer 0 for one token (<see cref="Token"/>) and one head (<see cref="Head"/>), then through the other layers, then
/// Value Zeroing on the same trace. Each block is rendered from the engine's own trace (and, where the page shows how a
/// value arises, from the traced inputs of that step and the checkpoint's weights, in float64), keyed by the id of the
/// page block it fills.
/// </summary>
public static class WalkthroughNumbers
{
    public const string Model = "all-MiniLM-L6-v2";
    public const string Sentence = "The quick brown fox jumps over the lazy dog.";
    /// <summary>The token followed through the layer: 4, "fox".</summary>
    public const int Token = 4;
    /// <summary>The head whose scores and probabilities are shown.</summary>
    public const int Head = 0;
    /// <summary>The token whose value vector the Value Zeroing example zeroes: 3, "brown".</summary>
    public const int Zeroed = 3;
    /// <summary>Columns 0..Columns-1 of each [n, d] row are shown.</summary>
    const int Columns = 4;
    const string F = "F4";
    const int Label = 40;

    public static IReadOnlyDictionary<string, NumberBlock> Render(EncoderModel model)
    {
        var encoding = model.Tokenize(Sentence);
        var input = EncoderInput.From(encoding);
        var (_, trace) = model.Encoder.Forward(input, TraceRequest.All);
        var config = model.Config;
        var w = model.Encoder.Weights;
        int n = encoding.Length, d = config.HiddenSize, i = Token;
        string[] tokens = encoding.Tokens;
        string shape = $"[{n}, {d}]";
        var blocks = new Dictionary<string, NumberBlock>();

        // Tokens.
        var b = new NumberBlock().Line(" j  token    id  type");
        for (int j = 0; j < n; j++) b.Line($"{j,2}  {tokens[j],-6} {encoding.Ids[j],5}  {encoding.TypeIds[j],4}");
        blocks["tokens"] = b;

        // Embeddings: e = E_word[id] + E_type[type] + E_pos[p], then LayerNorm.
        var emb = w.Embeddings;
        int id = encoding.Ids[i], type = encoding.TypeIds[i];
        var word = emb.Word.Span.Slice(id * d, d);
        var typeRow = emb.TokenType.Span.Slice(type * d, d);
        var position = emb.Position.Span.Slice(i * d, d);
        var sum = new float[d];
        for (int k = 0; k < d; k++) sum[k] = word[k] + typeRow[k] + position[k];
        var (mean, sigma) = Moments(sum, config.LayerNormEps);
        b = new NumberBlock();
        Row(b, $"E_word[{id}] ({tokens[i]})", word);
        Row(b, $"+ E_type[{type}]", typeRow);
        Row(b, $"+ E_pos[{i}]", position);
        Row(b, "= e", sum);
        Stats(b, "e", mean, sigma);
        Row(b, "γ (embeddings.LayerNorm.weight)", emb.LayerNormWeight.Span);
        Row(b, "β (embeddings.LayerNorm.bias)", emb.LayerNormBias.Span);
        Row(b, "(e − μ) / σ · γ + β", Normalised(sum, mean, sigma, emb.LayerNormWeight.Span, emb.LayerNormBias.Span));
        Row(b, $"embeddings.output {shape}", trace[TraceNames.EmbeddingsOutput].Row(i));
        blocks["embeddings"] = b;

        // Q, K, V.
        b = new NumberBlock();
        foreach (var step in (LayerStep[])[LayerStep.Query, LayerStep.Key, LayerStep.Value])
            Row(b, $"{TraceNames.Of(0, step)} {shape}", trace[0, step].Row(i));
        blocks["qkv"] = b;

        // Scores and probabilities of one head, row i.
        int dh = config.HeadDim, H = config.NumAttentionHeads;
        var query = trace[0, LayerStep.Query];
        var key = trace[0, LayerStep.Key];
        var value = trace[0, LayerStep.Value];
        var scores = trace[0, LayerStep.Scores];
        var probs = trace[0, LayerStep.Probs];
        double dot = 0;
        for (int k = 0; k < dh; k++) dot += (double)query[i, Head * dh + k] * key[i, Head * dh + k];
        b = new NumberBlock().Line($"{TraceNames.Of(0, LayerStep.Scores)} [{H}, {n}, {n}], head {Head}, row {i} ({tokens[i]}):");
        TokenHeader(b, tokens, 8);
        b.Numbers(Enumerable.Range(0, n).Select(j => (double)scores[Head, i, j]), F, 8, "").Line();
        b.Text($"q·k / √{dh} for key {i} ({tokens[i]}), from the traced query and key: ").Number(dot / Math.Sqrt(dh), F).Line();
        blocks["scores"] = b;

        double max = Enumerable.Range(0, n).Max(j => (double)scores[Head, i, j]);
        b = new NumberBlock().Line($"{TraceNames.Of(0, LayerStep.Probs)} [{H}, {n}, {n}], head {Head}, row {i} ({tokens[i]}):");
        TokenHeader(b, tokens, 8);
        b.Numbers(Enumerable.Range(0, n).Select(j => (double)probs[Head, i, j]), F, 8, "").Line();
        b.Text("largest score ").Number(max, F).Text(" (subtracted before exp); sum of the row ")
            .Number(Enumerable.Range(0, n).Sum(j => (double)probs[Head, i, j]), F).Line();
        blocks["probs"] = b;

        // Context: head h's columns of row i = Σ_j A_h[i, j] V[j, h·d_head ...].
        var context = new double[Columns];
        for (int c = 0; c < Columns; c++)
            for (int j = 0; j < n; j++) context[c] += (double)probs[Head, i, j] * value[j, Head * dh + c];
        b = new NumberBlock();
        Row(b, $"Σ_j A_{Head}[{i}, j] · V[j, 0..{Columns - 1}]", context);
        Row(b, $"{TraceNames.Of(0, LayerStep.Context)} {shape}", trace[0, LayerStep.Context].Row(i));
        blocks["context"] = b;

        // Attention output and residual 1.
        var residual1 = trace[0, LayerStep.AttentionResidual];
        b = new NumberBlock();
        Row(b, $"{TraceNames.Of(0, LayerStep.AttentionOutput)}", trace[0, LayerStep.AttentionOutput].Row(i));
        Row(b, $"+ {TraceNames.EmbeddingsOutput} (X)", trace[TraceNames.EmbeddingsOutput].Row(i));
        Row(b, $"= {TraceNames.Of(0, LayerStep.AttentionResidual)}", residual1.Row(i));
        blocks["residual1"] = b;

        // LayerNorm 1.
        var layer = w.Layers[0];
        (mean, sigma) = Moments(residual1.Row(i), config.LayerNormEps);
        b = new NumberBlock();
        Stats(b, "attention.residual", mean, sigma);
        Row(b, "γ₁ (attention.output.LayerNorm.weight)", layer.AttentionLayerNormWeight.Span);
        Row(b, "β₁ (attention.output.LayerNorm.bias)", layer.AttentionLayerNormBias.Span);
        Row(b, "(r − μ) / σ · γ₁ + β₁", Normalised(residual1.Row(i), mean, sigma, layer.AttentionLayerNormWeight.Span, layer.AttentionLayerNormBias.Span));
        Row(b, $"{TraceNames.Of(0, LayerStep.AttentionLayerNorm)}", trace[0, LayerStep.AttentionLayerNorm].Row(i));
        blocks["layernorm1"] = b;

        // FFN: u = X₁ W_inᵀ + b_in, intermediate = GELU(u), output = intermediate W_outᵀ + b_out, residual 2.
        int f = config.IntermediateSize;
        var x1 = trace[0, LayerStep.AttentionLayerNorm].Row(i);
        var u = new double[Columns];
        for (int c = 0; c < Columns; c++)
        {
            double s = layer.IntermediateBias.Span[c];
            var weightRow = layer.IntermediateWeight.Span.Slice(c * d, d);
            for (int k = 0; k < d; k++) s += (double)x1[k] * weightRow[k];
            u[c] = s;
        }
        var gelu = Array.ConvertAll(u, v => (float)v);
        Activations.Gelu(gelu);
        b = new NumberBlock();
        Row(b, $"u = X₁ W_inᵀ + b_in", u);
        Row(b, "GELU(u)", gelu);
        Row(b, $"{TraceNames.Of(0, LayerStep.FfnIntermediate)} [{n}, {f}]", trace[0, LayerStep.FfnIntermediate].Row(i));
        Row(b, $"{TraceNames.Of(0, LayerStep.FfnOutput)}", trace[0, LayerStep.FfnOutput].Row(i));
        Row(b, $"+ {TraceNames.Of(0, LayerStep.AttentionLayerNorm)}", x1);
        Row(b, $"= {TraceNames.Of(0, LayerStep.FfnResidual)}", trace[0, LayerStep.FfnResidual].Row(i));
        blocks["ffn"] = b;

        // LayerNorm 2.
        var residual2 = trace[0, LayerStep.FfnResidual];
        (mean, sigma) = Moments(residual2.Row(i), config.LayerNormEps);
        b = new NumberBlock();
        Stats(b, "ffn.residual", mean, sigma);
        Row(b, "γ₂ (output.LayerNorm.weight)", layer.OutputLayerNormWeight.Span);
        Row(b, "β₂ (output.LayerNorm.bias)", layer.OutputLayerNormBias.Span);
        Row(b, "(r − μ) / σ · γ₂ + β₂", Normalised(residual2.Row(i), mean, sigma, layer.OutputLayerNormWeight.Span, layer.OutputLayerNormBias.Span));
        Row(b, $"{TraceNames.Of(0, LayerStep.Output)}", trace[0, LayerStep.Output].Row(i));
        blocks["layernorm2"] = b;

        // The other layers, and the sentence embedding.
        int L = config.NumHiddenLayers;
        b = new NumberBlock();
        for (int l = 0; l < L; l++) Row(b, TraceNames.Of(l, LayerStep.Output), trace[l, LayerStep.Output].Row(i));
        var last = trace[L - 1, LayerStep.Output];
        var pooled = new double[d];
        for (int t = 0; t < n; t++)
            for (int k = 0; k < d; k++) pooled[k] += last[t, k] / (double)n;
        double norm = Math.Sqrt(pooled.Sum(v => v * v));
        b.Line();
        Row(b, $"mean over the {n} tokens", pooled);
        b.Text("÷ its L2 norm ").Number(norm, F).Line();
        Row(b, "= the sentence embedding", pooled.Select(v => v / norm).ToArray());
        Row(b, "model.Embed (mixlens embed)", model.Embed([encoding])[0]);
        blocks["layers"] = b;

        // Value Zeroing, literally: re-run layer 0 from its traced input, the value vector of one token zeroed.
        var layerInput = trace[TraceNames.EmbeddingsOutput];
        var inputs = Enumerable.Repeat(layerInput, n + 1).ToArray();
        var patches = Enumerable.Range(0, n + 1)
            .Select(c => c == 0 ? null : (IActivationPatch)new ZeroValueVectors(0, c - 1)).ToArray();
        var rerun = model.Encoder.RunLayer(0, inputs, patches: patches, trace: TraceRequest.Steps(false, LayerStep.Probs));
        var original = rerun.LastHiddenStates[0];
        var zeroed = rerun.LastHiddenStates[1 + Zeroed];
        double probsChange = 0;
        for (int c = 1; c <= n; c++)
            probsChange = Math.Max(probsChange, MaxAbsDiff(rerun.Traces[c][0, LayerStep.Probs].Data, probs.Data));
        var distances = Enumerable.Range(0, n)
            .Select(j => ValueZeroing.CosineDistance(rerun.LastHiddenStates[1 + j].Row(i), original.Row(i))).ToArray();
        b = new NumberBlock();
        Row(b, $"{TraceNames.Of(0, LayerStep.Output)}, y_{i}", trace[0, LayerStep.Output].Row(i));
        Row(b, "re-run, nothing zeroed", original.Row(i));
        Row(b, $"re-run, v_{Zeroed} ({tokens[Zeroed]}) zeroed, ỹ_{i}", zeroed.Row(i));
        b.Text($"1 − cos(ỹ_{i}, y_{i}) = ").Number(distances[Zeroed], "0.000e+0").Line();
        b.Line($"largest change of any attention probability in the {n} re-runs: {probsChange.ToString("G3", System.Globalization.CultureInfo.InvariantCulture)}");
        blocks["vz-rerun"] = b;

        var vz = ValueZeroing.Compute(model.Encoder, input, trace: trace);
        double rowSum = distances.Sum();
        b = new NumberBlock().Text(new string(' ', 12));
        TokenHeader(b, tokens, 10);
        b.Text("1 − cos".PadRight(12)).Numbers(distances.Select(v => v), "0.00e+0", 10, "").Line();
        b.Text("÷ row sum".PadRight(12)).Numbers(distances.Select(v => v / rowSum), F, 10, "").Line();
        b.Text("Compute".PadRight(12)).Numbers(Enumerable.Range(0, n).Select(j => (double)vz[0, i, j]), F, 10, "").Line();
        blocks["vz-row"] = b;

        b = new NumberBlock().Text(new string(' ', 9));
        TokenHeader(b, tokens, 6);
        b.Text($"{i,2} {tokens[i],-6}");
        b.Numbers(Enumerable.Range(0, n).Select(j => (double)vz[L - 1, i, j]), "F2", 6, "").Line();
        blocks["vz-last"] = b;
        return blocks;
    }

    /// <summary>A labelled row: columns 0..3 of <paramref name="values"/>.</summary>
    static void Row(NumberBlock b, string label, ReadOnlySpan<float> values)
    {
        b.Text(label.PadRight(Label));
        for (int c = 0; c < Columns; c++) b.Number(values[c], F, 9);
        b.Line();
    }

    static void Row(NumberBlock b, string label, double[] values)
    {
        b.Text(label.PadRight(Label));
        for (int c = 0; c < Columns; c++) b.Number(values[c], F, 9);
        b.Line();
    }

    static void Stats(NumberBlock b, string of, double mean, double sigma) =>
        b.Text($"μ = mean({of}) = ").Number(mean, F).Text($", σ = √(var + ε) = ").Number(sigma, F).Line();

    static void TokenHeader(NumberBlock b, string[] tokens, int width)
    {
        foreach (var t in tokens) b.Text(t.PadLeft(width));
        b.Line();
    }

    /// <summary>Mean and √(variance + ε) of a row (float64), as LayerNorm uses them.</summary>
    static (double Mean, double Sigma) Moments(ReadOnlySpan<float> row, double eps)
    {
        double mean = 0;
        foreach (var v in row) mean += v;
        mean /= row.Length;
        double variance = 0;
        foreach (var v in row) variance += (v - mean) * (v - mean);
        return (mean, Math.Sqrt(variance / row.Length + eps));
    }

    static double[] Normalised(ReadOnlySpan<float> row, double mean, double sigma, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta)
    {
        var result = new double[Columns];
        for (int c = 0; c < Columns; c++) result[c] = (row[c] - mean) / sigma * gamma[c] + beta[c];
        return result;
    }

    static double MaxAbsDiff(float[] a, float[] b)
    {
        double max = 0;
        for (int k = 0; k < a.Length; k++) max = Math.Max(max, Math.Abs(a[k] - b[k]));
        return max;
    }
}
