namespace MixLens.Engine.Tracing;

/// <summary>
/// The stable names of every traced tensor, one place for all of them (n tokens, d = hidden_size, H heads,
/// f = intermediate_size; single text, no batch axis):
/// <code>
/// embeddings.output                 [n, d]   word + position + token-type embeddings, after LayerNorm (ELECTRA: then
///                                            projected to d by embeddings_project)
/// layers.{i}.attention.query        [n, d]   after bias, heads not yet split (also .key, .value)
/// layers.{i}.attention.scores       [H, n, n] scaled by 1/√d_head and masked, before softmax
/// layers.{i}.attention.probs        [H, n, n] softmax over keys (head, query_pos, key_pos)
/// layers.{i}.attention.context      [n, d]   heads merged, before W_O
/// layers.{i}.attention.output       [n, d]   after W_O and b_O
/// layers.{i}.attention.residual     [n, d]   output + layer input, before LayerNorm 1
/// layers.{i}.attention.layernorm    [n, d]   LayerNorm 1
/// layers.{i}.ffn.intermediate       [n, f]   after the activation
/// layers.{i}.ffn.output             [n, d]
/// layers.{i}.ffn.residual           [n, d]   ffn.output + attention.layernorm, before LayerNorm 2
/// layers.{i}.output                 [n, d]   LayerNorm 2; the next layer's input
/// </code>
/// </summary>
public static class TraceNames
{
    public const string EmbeddingsOutput = "embeddings.output";

    static readonly string[] Suffixes =
    [
        "attention.query", "attention.key", "attention.value", "attention.scores", "attention.probs",
        "attention.context", "attention.output", "attention.residual", "attention.layernorm",
        "ffn.intermediate", "ffn.output", "ffn.residual", "output",
    ];

    /// <summary>Name of sub-step <paramref name="step"/> of layer <paramref name="layer"/> (0-based).</summary>
    public static string Of(int layer, LayerStep step) => $"layers.{layer}.{Suffixes[(int)step]}";

    /// <summary>Every traced name of a model with <paramref name="layers"/> layers, in forward order.</summary>
    public static IEnumerable<string> All(int layers)
    {
        yield return EmbeddingsOutput;
        for (int i = 0; i < layers; i++)
            foreach (var step in Enum.GetValues<LayerStep>())
                yield return Of(i, step);
    }

    /// <summary>Parses a trace name into (layer, step); the embeddings output is (-1, null).</summary>
    /// <returns>false when the name is not a trace name of a model with <paramref name="layers"/> layers.</returns>
    public static bool TryParse(string name, int layers, out int layer, out LayerStep? step)
    {
        layer = -1;
        step = null;
        if (name == EmbeddingsOutput) return true;
        const string prefix = "layers.";
        if (!name.StartsWith(prefix, StringComparison.Ordinal)) return false;
        int dot = name.IndexOf('.', prefix.Length);
        if (dot < 0 || !int.TryParse(name.AsSpan(prefix.Length, dot - prefix.Length), out layer) || layer < 0 || layer >= layers)
            return false;
        int index = Array.IndexOf(Suffixes, name[(dot + 1)..]);
        if (index < 0) return false;
        step = (LayerStep)index;
        return true;
    }
}
