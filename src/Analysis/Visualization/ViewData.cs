using MixLens.Engine;

namespace MixLens.Analysis.Visualization;

/// <summary>
/// Everything the interactive views show for one text (n tokens, L layers, H heads, d = hidden_size,
/// d_head = d / H): the tokens, the per-head attention probabilities (head view, model view), the query and key
/// vectors (neuron view) and the mixing methods' matrices and token scores (method view). Built by <see cref="ViewBuilder"/>;
/// written by <see cref="HtmlViewWriter"/> and <see cref="SvgHeatmapWriter"/>.
/// </summary>
public sealed class ViewData
{
    /// <summary>A short model name shown in the page title (the model directory's name).</summary>
    public required string Model { get; init; }
    /// <summary>The text, and the second text of a sentence pair (null for a single text).</summary>
    public required string Text { get; init; }
    public string? TextPair { get; init; }
    /// <summary>The n token strings, special tokens included.</summary>
    public required IReadOnlyList<string> Tokens { get; init; }
    /// <summary>[n] token type ids: 0 for the first text (and [CLS]), 1 for the pair (BertViz's sentence A / B).</summary>
    public required int[] Segments { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    /// <summary>d_head = hidden_size / num_attention_heads.</summary>
    public required int HeadSize { get; init; }
    /// <summary>[L, H, n, n] attention probabilities (trace <c>layers.{i}.attention.probs</c>), softmax over the last axis.</summary>
    public required Tensor Attention { get; init; }
    /// <summary>[L, n, d] query vectors after the bias, heads not split (trace <c>layers.{i}.attention.query</c>).</summary>
    public required Tensor Queries { get; init; }
    /// <summary>[L, n, d] key vectors (trace <c>layers.{i}.attention.key</c>).</summary>
    public required Tensor Keys { get; init; }
    /// <summary>The requested mixing methods, in the order asked for.</summary>
    public required IReadOnlyList<MethodScores> Methods { get; init; }
    /// <summary>The class the gradient methods explain (id and id2label name), or null when no method explains a
    /// classifier's class.</summary>
    public (int Id, string Label)? Target { get; init; }

    public int TokenCount => Tokens.Count;
}
