namespace MixLens.Engine.Model;

/// <summary>
/// The encoder architectures MixLens loads. They share one forward pass (embeddings, then post-LayerNorm layers) and
/// differ in checkpoint names (<see cref="CheckpointLayout"/>), position ids (<see cref="PositionScheme"/>), token
/// types and ELECTRA's embedding projection.
/// </summary>
public enum ModelFamily
{
    /// <summary><c>model_type</c> <c>bert</c> (BERT, MiniLM, BGE, E5, …): HF <c>BertModel</c>.</summary>
    Bert,
    /// <summary><c>roberta</c>, <c>xlm-roberta</c>, <c>camembert</c>: HF <c>RobertaModel</c>; positions start after
    /// the padding index, one token type.</summary>
    Roberta,
    /// <summary><c>distilbert</c>: HF <c>DistilBertModel</c>; no token types, its own weight and config names.</summary>
    DistilBert,
    /// <summary><c>electra</c>: HF <c>ElectraModel</c>; embeddings of width <c>embedding_size</c> projected to
    /// <c>hidden_size</c> (<c>embeddings_project</c>) when the two differ.</summary>
    Electra,
}

/// <summary>The <c>model_type</c> values of each <see cref="ModelFamily"/>.</summary>
public static class ModelFamilies
{
    /// <summary>Every supported <c>model_type</c>, in the order error messages list them.</summary>
    public static readonly IReadOnlyList<string> ModelTypes = ["bert", "roberta", "xlm-roberta", "camembert", "distilbert", "electra"];

    /// <summary>The family of a <c>model_type</c>, or null when it is not supported.</summary>
    public static ModelFamily? FromModelType(string modelType) => modelType switch
    {
        "bert" => ModelFamily.Bert,
        "roberta" or "xlm-roberta" or "camembert" => ModelFamily.Roberta,
        "distilbert" => ModelFamily.DistilBert,
        "electra" => ModelFamily.Electra,
        _ => null,
    };
}
