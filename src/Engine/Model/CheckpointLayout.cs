namespace MixLens.Engine.Model;

/// <summary>
/// One family's checkpoint names, mapped onto the canonical <see cref="EmbeddingWeights"/> and
/// <see cref="LayerWeights"/> records: the encoder code is the same for every family, only these names differ.
/// Module names are given without <c>.weight</c> / <c>.bias</c>; layer modules under <see cref="Layer"/>
/// (<c>{0}</c> = layer index). Each family's HF class is cited where its names come from (transformers 5.x
/// <c>modeling_bert.py</c>, <c>modeling_roberta.py</c>, <c>modeling_distilbert.py</c>, <c>modeling_electra.py</c>).
/// <code>
///                      BERT / RoBERTa / ELECTRA                DistilBERT
/// E_word, E_pos        embeddings.word_embeddings, …            embeddings.word_embeddings, …
/// E_type               embeddings.token_type_embeddings         (none)
/// LayerNorm_emb        embeddings.LayerNorm                     embeddings.LayerNorm
/// W_proj (ELECTRA)     embeddings_project                       –
/// layer i              encoder.layer.i.                         transformer.layer.i.
/// W_Q, W_K, W_V        attention.self.query|key|value           attention.q_lin|k_lin|v_lin
/// W_O                  attention.output.dense                   attention.out_lin
/// LayerNorm 1          attention.output.LayerNorm               sa_layer_norm
/// W_in, W_out          intermediate.dense, output.dense         ffn.lin1, ffn.lin2
/// LayerNorm 2          output.LayerNorm                         output_layer_norm
/// </code>
/// </summary>
public sealed record CheckpointLayout
{
    /// <summary>The family's name in messages (e.g. "RoBERTa").</summary>
    public required string Name { get; init; }
    /// <summary>The prefixes a checkpoint may put before the encoder names: "" (a bare encoder) or the base-model
    /// prefix of a checkpoint saved with a task head (<c>bert.</c>, <c>roberta.</c>, …).</summary>
    public required IReadOnlyList<string> Prefixes { get; init; }

    public required string WordEmbeddings { get; init; }
    public required string PositionEmbeddings { get; init; }
    /// <summary>The token-type table, or null for a family without token types.</summary>
    public required string? TokenTypeEmbeddings { get; init; }
    public required string EmbeddingLayerNorm { get; init; }
    /// <summary>The E → d projection after the embedding LayerNorm (ELECTRA), or null.</summary>
    public string? EmbeddingProjection { get; init; }

    /// <summary>The prefix of layer <c>{0}</c>'s modules.</summary>
    public required string Layer { get; init; }
    public required string Query { get; init; }
    public required string Key { get; init; }
    public required string Value { get; init; }
    public required string AttentionOutput { get; init; }
    public required string AttentionLayerNorm { get; init; }
    public required string Intermediate { get; init; }
    public required string Output { get; init; }
    public required string OutputLayerNorm { get; init; }

    /// <summary>HF <c>BertModel</c> (<c>BertEmbeddings</c>, <c>BertLayer</c>).</summary>
    public static readonly CheckpointLayout Bert = new()
    {
        Name = "BERT",
        Prefixes = ["", "bert."],
        WordEmbeddings = "embeddings.word_embeddings",
        PositionEmbeddings = "embeddings.position_embeddings",
        TokenTypeEmbeddings = "embeddings.token_type_embeddings",
        EmbeddingLayerNorm = "embeddings.LayerNorm",
        Layer = "encoder.layer.{0}.",
        Query = "attention.self.query",
        Key = "attention.self.key",
        Value = "attention.self.value",
        AttentionOutput = "attention.output.dense",
        AttentionLayerNorm = "attention.output.LayerNorm",
        Intermediate = "intermediate.dense",
        Output = "output.dense",
        OutputLayerNorm = "output.LayerNorm",
    };

    /// <summary>HF <c>RobertaModel</c> (also XLM-RoBERTa, CamemBERT): BERT's names under <c>roberta.</c>.</summary>
    public static readonly CheckpointLayout Roberta = Bert with { Name = "RoBERTa", Prefixes = ["", "roberta."] };

    /// <summary>HF <c>ElectraModel</c>: BERT's names under <c>electra.</c>, plus <c>embeddings_project</c>.</summary>
    public static readonly CheckpointLayout Electra = Bert with
    {
        Name = "ELECTRA",
        Prefixes = ["", "electra."],
        EmbeddingProjection = "embeddings_project",
    };

    /// <summary>HF <c>DistilBertModel</c> (<c>Embeddings</c>, <c>TransformerBlock</c>, <c>MultiHeadSelfAttention</c>,
    /// <c>FFN</c>).</summary>
    public static readonly CheckpointLayout DistilBert = new()
    {
        Name = "DistilBERT",
        Prefixes = ["", "distilbert."],
        WordEmbeddings = "embeddings.word_embeddings",
        PositionEmbeddings = "embeddings.position_embeddings",
        TokenTypeEmbeddings = null,
        EmbeddingLayerNorm = "embeddings.LayerNorm",
        Layer = "transformer.layer.{0}.",
        Query = "attention.q_lin",
        Key = "attention.k_lin",
        Value = "attention.v_lin",
        AttentionOutput = "attention.out_lin",
        AttentionLayerNorm = "sa_layer_norm",
        Intermediate = "ffn.lin1",
        Output = "ffn.lin2",
        OutputLayerNorm = "output_layer_norm",
    };

    /// <summary>The layout of a family.</summary>
    public static CheckpointLayout For(ModelFamily family) => family switch
    {
        ModelFamily.Bert => Bert,
        ModelFamily.Roberta => Roberta,
        ModelFamily.DistilBert => DistilBert,
        ModelFamily.Electra => Electra,
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "unknown model family"),
    };

    /// <summary>The prefix of layer <paramref name="index"/>'s modules, e.g. "encoder.layer.3.".</summary>
    public string LayerPrefix(int index) => string.Format(System.Globalization.CultureInfo.InvariantCulture, Layer, index);
}
