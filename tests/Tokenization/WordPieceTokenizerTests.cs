using MixLens.Engine.Tokenization;

namespace MixLens.Tests.Tokenization;

/// <summary>Behaviour of <see cref="WordPieceTokenizer"/> on hand-picked inputs (bert-base-uncased vocabulary).</summary>
public sealed class WordPieceTokenizerTests
{
    static WordPieceTokenizer Bert => TokenizerFixtures.Load(TokenizerFixtures.MiniLmDir);

    [Fact]
    public void Encode_EmptyText_GivesClsSep()
    {
        var encoding = Bert.Encode("");

        Assert.Equal([101, 102], encoding.Ids);
        Assert.Equal([(0, 0), (0, 0)], encoding.Offsets);
        Assert.Equal([1, 1], encoding.SpecialTokensMask);
        Assert.Equal([null, null], encoding.SequenceIds);
    }

    [Fact]
    public void Encode_EmptyPair_GivesClsSepSep()
    {
        var encoding = Bert.Encode("", "");

        Assert.Equal(["[CLS]", "[SEP]", "[SEP]"], encoding.Tokens);
        Assert.Equal([0, 0, 1], encoding.TypeIds);
    }

    [Fact]
    public void Encode_Pair_TypeIdsSequenceIdsAndOwnOffsets()
    {
        var encoding = Bert.Encode("Hi there", "Bye");

        Assert.Equal(["[CLS]", "hi", "there", "[SEP]", "bye", "[SEP]"], encoding.Tokens);
        Assert.Equal([0, 0, 0, 0, 1, 1], encoding.TypeIds);
        Assert.Equal([null, 0, 0, null, 1, null], encoding.SequenceIds);
        Assert.Equal([1, 0, 0, 1, 0, 1], encoding.SpecialTokensMask);
        Assert.Equal([(0, 0), (0, 2), (3, 8), (0, 0), (0, 3), (0, 0)], encoding.Offsets);
    }

    [Fact]
    public void Encode_Emoji_IsOneCharWithTwoUtf16Units()
    {
        var encoding = Bert.Encode("I love 🍕!");

        Assert.Equal(["[CLS]", "i", "love", "[UNK]", "!", "[SEP]"], encoding.Tokens);
        Assert.Equal((7, 9), encoding.Offsets[3]);
        Assert.Equal((9, 10), encoding.Offsets[4]);
    }

    [Fact]
    public void Encode_StrippedAccent_KeepsOriginalSpan()
    {
        var encoding = Bert.Encode("café");

        Assert.Equal(["[CLS]", "cafe", "[SEP]"], encoding.Tokens);
        Assert.Equal((0, 4), encoding.Offsets[1]);
    }

    [Fact]
    public void Encode_DecomposedAccent_TokenEndsBeforeTheRemovedMark()
    {
        var encoding = Bert.Encode("cafe\u0301 x");

        Assert.Equal(["[CLS]", "cafe", "x", "[SEP]"], encoding.Tokens);
        Assert.Equal((0, 4), encoding.Offsets[1]); // the removed mark is not part of any token
        Assert.Equal((6, 7), encoding.Offsets[2]);
    }

    [Fact]
    public void Encode_HangulSyllable_JamoShareTheSyllableSpan()
    {
        var encoding = Bert.Encode("세");

        Assert.Equal(["[CLS]", "ᄉ", "##ᅦ", "[SEP]"], encoding.Tokens);
        Assert.Equal([(0, 0), (0, 1), (0, 1), (0, 0)], encoding.Offsets);
    }

    [Fact]
    public void Encode_ChineseChars_EachIsAWord()
    {
        var encoding = Bert.Encode("北京都");

        Assert.Equal(["[CLS]", "北", "京", "都", "[SEP]"], encoding.Tokens);
        Assert.Equal([(0, 0), (0, 1), (1, 2), (2, 3), (0, 0)], encoding.Offsets);
    }

    [Fact]
    public void Encode_NoncharacterAndZeroWidthSpace_NoncharacterBecomesUnkSpaceIsDropped()
    {
        var encoding = Bert.Encode("a\u200Bb \uFDD0 \uFFFE");

        Assert.Equal(["[CLS]", "ab", "[UNK]", "[UNK]", "[SEP]"], encoding.Tokens);
        Assert.Equal([(0, 0), (0, 3), (4, 5), (6, 7), (0, 0)], encoding.Offsets);
    }

    [Fact]
    public void Encode_WordOver100Chars_IsOneUnkOverTheWholeWord()
    {
        string word = new('a', 101);

        var encoding = Bert.Encode("x " + word + " y");

        Assert.Equal(["[CLS]", "x", "[UNK]", "y", "[SEP]"], encoding.Tokens);
        Assert.Equal((2, 103), encoding.Offsets[2]);
    }

    [Fact]
    public void Encode_WordWithUnmatchedPiece_IsOneUnk()
    {
        var encoding = Bert.Encode("abc\u0378def"); // U+0378 is unassigned: kept, but in no vocabulary piece

        Assert.Equal(["[CLS]", "[UNK]", "[SEP]"], encoding.Tokens);
        Assert.Equal((0, 7), encoding.Offsets[1]);
    }

    [Fact]
    public void Encode_TypedSpecialTokens_MatchedInRawTextWithTheirSpans()
    {
        var encoding = Bert.Encode("x[MASK]y [mask]");

        Assert.Equal(["[CLS]", "x", "[MASK]", "y", "[", "mask", "]", "[SEP]"], encoding.Tokens);
        Assert.Equal((1, 7), encoding.Offsets[2]);
        Assert.Equal(0, encoding.SpecialTokensMask[2]); // typed, not inserted
    }

    [Fact]
    public void Encode_LoneSurrogate_IsAnOrdinaryCharOfAnUnkWord()
    {
        var encoding = Bert.Encode("a\uD800b");

        Assert.Equal(["[CLS]", "[UNK]", "[SEP]"], encoding.Tokens);
        Assert.Equal((0, 3), encoding.Offsets[1]);
    }

    [Fact]
    public void Encode_MaxLength_TruncatesSingleTextToFirstTokens()
    {
        var encoding = Bert.Encode("one two three four five", maxLength: 5);

        Assert.Equal(["[CLS]", "one", "two", "three", "[SEP]"], encoding.Tokens);
    }

    [Fact]
    public void Encode_MaxLengthOnPair_CutsTheLongerFirst()
    {
        var encoding = Bert.Encode("one two three four five six", "seven", maxLength: 7);

        Assert.Equal(["[CLS]", "one", "two", "three", "[SEP]", "seven", "[SEP]"], encoding.Tokens);
    }

    [Fact]
    public void Encode_MaxLengthOnEqualPair_GivesTheOddTokenToTheSecond()
    {
        var encoding = Bert.Encode("a b c d", "e f g h", maxLength: 8);

        Assert.Equal(["[CLS]", "a", "b", "[SEP]", "e", "f", "g", "[SEP]"], encoding.Tokens);
    }

    [Fact]
    public void Encode_MaxLengthBelowSpecialTokens_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Bert.Encode("hello", maxLength: 1));
        Assert.Equal(["[CLS]", "[SEP]"], Bert.Encode("hello", maxLength: 2).Tokens);
    }

    [Fact]
    public void Vocabulary_Lookups_MatchVocabTxt()
    {
        var tokenizer = Bert;

        Assert.Equal(30522, tokenizer.VocabSize);
        Assert.Equal(0, tokenizer.PadId);
        Assert.Equal(103, tokenizer.MaskId);
        Assert.Equal("[MASK]", tokenizer.IdToToken(103));
        Assert.Equal("##ing", tokenizer.IdToToken(tokenizer.TokenToId("##ing")!.Value));
        Assert.Null(tokenizer.TokenToId("definitely-not-a-token"));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.IdToToken(30522));
    }

    [Fact]
    public void Encode_ConcurrentCalls_GiveTheSameResults()
    {
        var lines = TokenizerFixtures.ReadJsonl("bert-base-uncased.special.jsonl.gz");
        var expected = lines.Select(l => Bert.Encode(l.Text).Ids).ToArray();

        var results = new int[lines.Count * 8][];
        Parallel.For(0, results.Length, i => results[i] = Bert.Encode(lines[i % lines.Count].Text).Ids);

        for (int i = 0; i < results.Length; i++) Assert.Equal(expected[i % lines.Count], results[i]);
    }

    [Fact]
    public void Encode_RandomUnicode_OffsetsStayInsideTheTextAndInOrder()
    {
        var random = new Random(1234);
        int[] pool = [' ', 'a', 'Z', '[', ']', '#', 0x301, 0x316, 0x345, 0xE9, 0x130, 0x3A3, 0xAC00, 0x4E00, 0xFDD0, 0xFFFE, 0xFFFF,
            0x200B, 0xFEFF, 0x0, 0x85, 0x2028, 0x1F602, 0x1E944, 0x10400, 0xD800, 0xDC00, 0xE000, 0x1D165, 0x302E, 0xFB2C];
        for (int n = 0; n < 2000; n++)
        {
            var sb = new System.Text.StringBuilder();
            int length = random.Next(0, 24);
            for (int i = 0; i < length; i++)
            {
                int c = pool[random.Next(pool.Length)];
                if (c is >= 0xD800 and <= 0xDFFF || c < 0x10000) sb.Append((char)c);
                else sb.Append(char.ConvertFromUtf32(c));
                if (random.Next(8) == 0) sb.Append("[MASK]");
            }
            string text = sb.ToString();

            var encoding = Bert.Encode(text);

            int previousStart = 0;
            for (int t = 0; t < encoding.Length; t++)
            {
                if (encoding.SpecialTokensMask[t] == 1) continue;
                var (start, end) = encoding.Offsets[t];
                Assert.True(0 <= start && start < end && end <= text.Length, $"token {t} {encoding.Tokens[t]} {encoding.Offsets[t]} in {TokenizerFixtures.Escape(text)}");
                Assert.True(start >= previousStart, $"token {t} starts before token {t - 1} in {TokenizerFixtures.Escape(text)}");
                previousStart = start;
            }
        }
    }
}
