namespace MixLens.Engine.Tokenization;

/// <summary>A tokenizer with HuggingFace semantics (normalise, pre-tokenise, model, post-process).</summary>
public interface ITokenizer
{
    /// <summary>
    /// Encodes a text (and an optional second text) with special tokens added.
    /// With <paramref name="maxLength"/> null there is no truncation; otherwise the result is truncated to at most
    /// maxLength tokens (specials included) with HF's longest_first strategy.
    /// </summary>
    Encoding Encode(string text, string? pair = null, int? maxLength = null);

    int VocabSize { get; }
    /// <summary>Token string of an id (the vocabulary entry).</summary>
    string IdToToken(int id);
    /// <summary>Id of a token string, or null.</summary>
    int? TokenToId(string token);
    /// <summary>Id of the padding token.</summary>
    int PadId { get; }
    /// <summary>Id of the mask token, if any.</summary>
    int? MaskId { get; }

    /// <summary>Whether <paramref name="id"/> is one of the tokenizer's special added tokens (tokenizer.json
    /// <c>added_tokens</c> with <c>"special": true</c>: [CLS], [SEP], [PAD], [UNK], [MASK], &lt;s&gt;, …), wherever it
    /// stands: inserted by the post-processor or found in the text (HF's <c>all_special_ids</c>).</summary>
    bool IsSpecialToken(int id) => false;

    /// <summary>
    /// The longest input (in tokens, special tokens included) the tokenizer's configuration declares
    /// (tokenizer_config.json <c>model_max_length</c>), or null when it declares none or "unlimited" (HF's 1e30
    /// sentinel). Informational: <see cref="Encode"/> only truncates when given a maxLength.
    /// </summary>
    int? ModelMaxLength => null;
}
