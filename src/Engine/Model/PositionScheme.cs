namespace MixLens.Engine.Model;

/// <summary>How a family numbers the positions it looks up in <c>position_embeddings</c>.</summary>
public enum PositionScheme
{
    /// <summary>BERT, DistilBERT, ELECTRA: p_t = t (HF <c>position_ids = arange(n)</c>).</summary>
    FromZero,
    /// <summary>
    /// The RoBERTa family (HF <c>create_position_ids_from_input_ids</c>): a non-padding token gets
    /// p_t = padding_idx + (number of non-padding tokens in 0..t), so p = padding_idx + 1 + t in a text without
    /// padding; a padding token gets padding_idx. padding_idx is <c>pad_token_id</c>.
    /// </summary>
    AfterPadding,
}

/// <summary>Position ids of one text under a <see cref="PositionScheme"/>.</summary>
public static class PositionIds
{
    /// <summary>The position id of every token: input_ids [n] → position ids [n].</summary>
    /// <param name="scheme">the family's scheme.</param>
    /// <param name="inputIds">the text's token ids [n].</param>
    /// <param name="paddingIdx">the padding token id (used by <see cref="PositionScheme.AfterPadding"/> only).</param>
    public static int[] Of(PositionScheme scheme, ReadOnlySpan<int> inputIds, int paddingIdx)
    {
        var positions = new int[inputIds.Length];
        if (scheme == PositionScheme.FromZero)
        {
            for (int t = 0; t < positions.Length; t++) positions[t] = t;
            return positions;
        }
        // mask = ids ≠ padding_idx;  p = cumsum(mask) · mask + padding_idx
        int nonPadding = 0;
        for (int t = 0; t < positions.Length; t++)
        {
            bool real = inputIds[t] != paddingIdx;
            if (real) nonPadding++;
            positions[t] = (real ? nonPadding : 0) + paddingIdx;
        }
        return positions;
    }
}
