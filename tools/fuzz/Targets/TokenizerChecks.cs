using MixLens.Engine.Tokenization;

namespace MixLens.Fuzz;

/// <summary>
/// What every tokenizer target does once a tokenizer has loaded: encode the text alone, with its pair, and truncated,
/// and check the encodings are well formed (parallel arrays of one length, ids that map back to tokens, offsets inside
/// the text they index). Any text must encode: the only documented exception is
/// <see cref="ArgumentOutOfRangeException"/> for a <c>maxLength</c> below the number of special tokens.
/// </summary>
public static class TokenizerChecks
{
    /// <summary>Loads with <paramref name="load"/> (documented: <see cref="TokenizerException"/> naming one of
    /// <paramref name="names"/>), then encodes <paramref name="text"/> and <paramref name="pair"/>.</summary>
    public static void LoadAndEncode(Func<ITokenizer> load, IReadOnlyList<string> names, string text, string pair)
    {
        ITokenizer? tokenizer = null;
        if (!FuzzRule.Expect(() => tokenizer = load(), names, typeof(TokenizerException))) return;
        Check(tokenizer!, text, null, tokenizer!.Encode(text));
        if (pair.Length > 0) Check(tokenizer, text, pair, tokenizer.Encode(text, pair));
        foreach (int maxLength in new[] { 1, 8 })
        {
            try
            {
                Check(tokenizer, text, pair.Length > 0 ? pair : null, tokenizer.Encode(text, pair.Length > 0 ? pair : null, maxLength), maxLength);
            }
            catch (ArgumentOutOfRangeException e) when (e.ParamName == "maxLength") { }
        }
        _ = tokenizer.PadId;
        _ = tokenizer.MaskId;
        _ = tokenizer.ModelMaxLength;
    }

    static void Check(ITokenizer tokenizer, string text, string? pair, Encoding e, int? maxLength = null)
    {
        int n = e.Ids.Length;
        if (e.Tokens.Length != n || e.TypeIds.Length != n || e.Offsets.Length != n || e.SequenceIds.Length != n || e.SpecialTokensMask.Length != n)
            throw new FuzzRuleViolation($"encoding arrays of different lengths (ids {n}, tokens {e.Tokens.Length}, offsets {e.Offsets.Length})");
        if (maxLength is { } max && n > max)
            throw new FuzzRuleViolation($"encoding of {n} tokens exceeds maxLength {max}");
        for (int i = 0; i < n; i++)
        {
            if (e.Ids[i] < 0) throw new FuzzRuleViolation($"token {i} has the negative id {e.Ids[i]}");
            _ = tokenizer.IdToToken(e.Ids[i]);
            var (start, end) = e.Offsets[i];
            int length = e.SequenceIds[i] == 1 ? pair?.Length ?? 0 : text.Length;
            if (start < 0 || end < start || end > length)
                throw new FuzzRuleViolation($"token {i} '{e.Tokens[i]}' has offsets [{start}, {end}) outside its text of {length} chars");
        }
    }
}
