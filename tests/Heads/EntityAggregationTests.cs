using System.Text.Json;
using MixLens.Engine;
using MixLens.Engine.Heads;
using MixLens.Tests.Cli;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Heads;

/// <summary>
/// <c>tag --aggregate</c> against HF's TokenClassificationPipeline rules (pipelines/token_classification.py), written
/// out here independently: hand-set token probabilities on bert-tokcls-random's WordPiece tokenizer where the four
/// strategies disagree, and the CLI on the real (random) head against groups built here from its per-token logits.
/// </summary>
public class EntityAggregationTests
{
    const string ModelName = "bert-tokcls-random";
    static readonly string[] Labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"];
    static readonly Lazy<EncoderModel> Model = new(() => EncoderModel.Load(SharedData.Models(ModelName)));

    const string Text = "Angela Merkel visited New York.";

    /// <summary>Per token of <see cref="Text"/>, the probabilities over O, B-PER, I-PER, B-LOC, I-LOC.</summary>
    static readonly Dictionary<string, double[]> Probabilities = new()
    {
        ["angela"] = [0.075, 0.7, 0.075, 0.075, 0.075],
        ["mer"] = [0.1, 0.2, 0.5, 0.1, 0.1],
        ["##kel"] = [0.025, 0.9, 0.025, 0.025, 0.025],
        ["visited"] = [0.8, 0.05, 0.05, 0.05, 0.05],
        ["new"] = [0.1, 0.1, 0.1, 0.6, 0.1],
        ["york"] = [0.1, 0.1, 0.1, 0.3, 0.4],
        ["."] = [0.9, 0.025, 0.025, 0.025, 0.025],
    };

    static EntityGroup[] Aggregate(AggregationStrategy strategy)
    {
        var model = Model.Value;
        var encoding = model.Tokenize(Text);
        Assert.Equal(["[CLS]", "angela", "mer", "##kel", "visited", "new", "york", ".", "[SEP]"], encoding.Tokens);
        // logits = log p: softmax gives p back
        var logits = encoding.Tokens.SelectMany(t => Probabilities.TryGetValue(t, out var p) ? p.Select(v => (float)Math.Log(v)) : new float[5]).ToArray();
        return EntityAggregation.Aggregate(encoding, new Tensor(logits, encoding.Length, 5), Labels, Text, model.Tokenizer, strategy);
    }

    static void AssertGroups(EntityGroup[] actual, params (string Entity, double Score, string Word, int Start, int End)[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int g = 0; g < expected.Length; g++)
        {
            Assert.Equal(expected[g].Entity, actual[g].Entity);
            Assert.Equal(expected[g].Score, actual[g].Score, 6);
            Assert.Equal(expected[g].Word, actual[g].Word);
            Assert.Equal((expected[g].Start, expected[g].End), (actual[g].Start, actual[g].End));
        }
    }

    [Fact]
    public void Simple_TokensKeepTheirLabels_BStartsANewGroupAndOIsDropped() =>
        // angela B-PER .7 + mer I-PER .5 → PER; ##kel B-PER .9 starts its own; visited O; new B-LOC .6 + york I-LOC .4
        // → LOC; the lone sub-word's word is its token, as HF's decoder leaves a first "##" piece.
        AssertGroups(Aggregate(AggregationStrategy.Simple),
            ("PER", (0.7 + 0.5) / 2, "angela mer", 0, 10), ("PER", 0.9, "##kel", 10, 13), ("LOC", (0.6 + 0.4) / 2, "new york", 22, 30));

    [Fact]
    public void First_AWordTakesItsFirstTokensLabel() =>
        // merkel = mer (I-PER .5) + ##kel: I-PER continues angela's PER
        AssertGroups(Aggregate(AggregationStrategy.First),
            ("PER", (0.7 + 0.5) / 2, "angela merkel", 0, 13), ("LOC", 0.5, "new york", 22, 30));

    [Fact]
    public void Max_AWordTakesTheLabelOfItsMostConfidentToken() =>
        // merkel: ##kel's 0.9 beats mer's 0.5 → B-PER 0.9, which starts a new PER group
        AssertGroups(Aggregate(AggregationStrategy.Max),
            ("PER", 0.7, "angela", 0, 6), ("PER", 0.9, "merkel", 7, 13), ("LOC", 0.5, "new york", 22, 30));

    [Fact]
    public void Average_AWordTakesTheArgmaxOfItsMeanScores() =>
        // merkel: mean(mer, ##kel) = [0.0625, 0.55, 0.2625, 0.0625, 0.0625] → B-PER 0.55
        AssertGroups(Aggregate(AggregationStrategy.Average),
            ("PER", 0.7, "angela", 0, 6), ("PER", 0.55, "merkel", 7, 13), ("LOC", 0.5, "new york", 22, 30));

    // ---- byte-level BPE: words by the spaces around a token's span -------------------------------------------------

    static readonly Lazy<EncoderModel> Roberta = new(() => EncoderModel.Load(SharedData.Models("roberta-random")));

    const string BpeText = "Schwarzenegger visited New York.";

    /// <summary>Per token of <see cref="BpeText"/> (roberta-base BPE), the probabilities over the five labels.</summary>
    static readonly Dictionary<string, double[]> BpeProbabilities = new()
    {
        ["Sch"] = [0.1, 0.6, 0.1, 0.1, 0.1],
        ["war"] = [0.2, 0.15, 0.5, 0.05, 0.1],
        ["z"] = [0.7, 0.1, 0.1, 0.05, 0.05],
        ["enegger"] = [0.05, 0.05, 0.8, 0.05, 0.05],
        ["Ġvisited"] = [0.9, 0.025, 0.025, 0.025, 0.025],
        ["ĠNew"] = [0.1, 0.1, 0.1, 0.6, 0.1],
        ["ĠYork"] = [0.05, 0.05, 0.05, 0.15, 0.7],
        ["."] = [0.9, 0.025, 0.025, 0.025, 0.025],
    };

    static EntityGroup[] AggregateBpe(AggregationStrategy strategy)
    {
        var model = Roberta.Value;
        var encoding = model.Tokenize(BpeText);
        Assert.Equal(["<s>", "Sch", "war", "z", "enegger", "Ġvisited", "ĠNew", "ĠYork", ".", "</s>"], encoding.Tokens);
        var logits = encoding.Tokens.SelectMany(t => BpeProbabilities.TryGetValue(t, out var p) ? p.Select(v => (float)Math.Log(v)) : new float[5]).ToArray();
        return EntityAggregation.Aggregate(encoding, new Tensor(logits, encoding.Length, 5), Labels, BpeText, Roberta.Value.Tokenizer, strategy);
    }

    // Words (no continuing-subword prefix: a token starts a word when the text has a space before it or at its start):
    // Sch|war|z|enegger = "Schwarzenegger"; Ġvisited; ĠNew; ĠYork|. = " York." (no space before the full stop).
    // Words and groups are decoded from the byte alphabet: "ĠNew" → " New", as HF's word " New York.".

    [Fact]
    public void Bpe_Simple_GroupsTokens() =>
        // Sch B-PER .6 + war I-PER .5 → PER "Schwar"; z O; enegger I-PER .8 → PER; ĠNew B-LOC .6 + ĠYork I-LOC .7 → LOC
        AssertGroups(AggregateBpe(AggregationStrategy.Simple),
            ("PER", 0.55, "Schwar", 0, 6), ("PER", 0.8, "enegger", 7, 14), ("LOC", 0.65, " New York", 23, 31));

    [Fact]
    public void Bpe_First_TheFullStopJoinsYork() =>
        AssertGroups(AggregateBpe(AggregationStrategy.First),
            ("PER", 0.6, "Schwarzenegger", 0, 14), ("LOC", (0.6 + 0.7) / 2, " New York.", 23, 32));

    [Fact]
    public void Bpe_Max_TheMostConfidentTokenDecides() =>
        // Schwarzenegger: enegger's I-PER .8; "York.": the full stop's O .9 beats York's .7, so the word is O (dropped)
        AssertGroups(AggregateBpe(AggregationStrategy.Max),
            ("PER", 0.8, "Schwarzenegger", 0, 14), ("LOC", 0.6, " New", 23, 26));

    [Fact]
    public void Bpe_Average_MeanScoresDecide() =>
        // Schwarzenegger: mean = [0.2625, 0.225, 0.375, 0.0625, 0.075] → I-PER .375; "York.": O .475 (dropped)
        AssertGroups(AggregateBpe(AggregationStrategy.Average),
            ("PER", 0.375, "Schwarzenegger", 0, 14), ("LOC", 0.6, " New", 23, 26));

    [Fact]
    public void Aggregate_StrategyNoneOrPair_Refused()
    {
        var model = Model.Value;
        var encoding = model.Tokenize(Text);
        var logits = new Tensor(new float[encoding.Length * 5], encoding.Length, 5);
        Assert.Throws<ArgumentException>(() => EntityAggregation.Aggregate(encoding, logits, Labels, Text, model.Tokenizer, AggregationStrategy.None));
        var pair = model.Tokenize("Angela", "Paris");
        Assert.Throws<ArgumentException>(() =>
            EntityAggregation.Aggregate(pair, new Tensor(new float[pair.Length * 5], pair.Length, 5), Labels, "Angela", model.Tokenizer, AggregationStrategy.Simple));
    }

    // ---- the CLI on the random head, against groups built here ---------------------------------------------------

    /// <summary>HF's rules, written out: per-token softmax; WordPiece sub-word = "##" token; word label by strategy;
    /// group while the type after B-/I- is the same and the next is not B-; mean score; drop O.</summary>
    static List<(string Entity, double Score, string Word, int Start, int End)> Reference(string[] tokens, (int, int)[] offsets,
        float[][] logits, string strategy)
    {
        var items = new List<(string Token, double[] P, int Start, int End)>();
        for (int t = 0; t < tokens.Length; t++)
        {
            if (tokens[t] is "[CLS]" or "[SEP]") continue;
            var e = logits[t].Select(z => Math.Exp(z - logits[t].Max())).ToArray();
            items.Add((tokens[t], e.Select(v => v / e.Sum()).ToArray(), offsets[t].Item1, offsets[t].Item2));
        }
        static int Best(double[] p) => Array.IndexOf(p, p.Max());
        var labelled = new List<(string Label, double Score, string Word, int Start, int End)>();
        if (strategy == "simple")
            labelled.AddRange(items.Select(i => (Labels[Best(i.P)], i.P.Max(), i.Token, i.Start, i.End)));
        else
        {
            var words = new List<List<(string Token, double[] P, int Start, int End)>>();
            foreach (var i in items)
                if (i.Token.StartsWith("##") && words.Count > 0) words[^1].Add(i); else words.Add([i]);
            foreach (var w in words)
            {
                double[] p = strategy switch
                {
                    "first" => w[0].P,
                    "max" => w.First(i => i.P.Max() == w.Max(j => j.P.Max())).P,
                    _ => Enumerable.Range(0, 5).Select(k => w.Average(i => i.P[k])).ToArray(),
                };
                string text = string.Concat(w.Select((i, n) => n == 0 ? i.Token : i.Token[2..]));
                labelled.Add((Labels[Best(p)], p.Max(), text, w[0].Start, w[^1].End));
            }
        }
        var groups = new List<List<(string Label, double Score, string Word, int Start, int End)>>();
        foreach (var l in labelled)
        {
            string type = l.Label.Length > 2 && l.Label[1] == '-' ? l.Label[2..] : l.Label;
            bool begins = l.Label.StartsWith("B-");
            if (groups.Count > 0 && !begins)
            {
                var last = groups[^1][^1].Label;
                if ((last.Length > 2 && last[1] == '-' ? last[2..] : last) == type) { groups[^1].Add(l); continue; }
            }
            groups.Add([l]);
        }
        return groups
            .Select(g => (g[0].Label.Split('-')[^1], g.Average(l => l.Score),
                string.Join(" ", g.Select(l => l.Word)).Replace(" ##", "").Replace(" .", "."), g[0].Start, g[^1].End))
            .Where(g => g.Item1 != "O").ToList();
    }

    [Theory]
    [InlineData("simple")]
    [InlineData("first")]
    [InlineData("average")]
    [InlineData("max")]
    public void TagAggregate_RandomHead_MatchesGroupsBuiltFromThePerTokenLogits(string strategy)
    {
        string model = CliHarness.Model(ModelName);
        foreach (var text in new[] { "Angela Merkel visited Paris with Schwarzenegger.", "John lives in London and Mary moved to Rome.", "Zbigniew Brzezinski met Kofi Annan." })
        {
            using var perToken = JsonDocument.Parse(CliHarness.RunOk("tag", "--model", model, "--text", text, "--format", "json").Stdout);
            var root = perToken.RootElement;
            var tokens = root.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToArray();
            var offsets = root.GetProperty("offsets").EnumerateArray().Select(o => (o[0].GetInt32(), o[1].GetInt32())).ToArray();
            var logits = root.GetProperty("logits").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();
            var expected = Reference(tokens, offsets, logits, strategy);

            using var grouped = JsonDocument.Parse(CliHarness.RunOk("tag", "--model", model, "--text", text, "--format", "json", "--aggregate", strategy).Stdout);
            var actual = grouped.RootElement.GetProperty("entities").EnumerateArray().ToArray();
            Assert.Equal(expected.Count, actual.Length);
            for (int g = 0; g < actual.Length; g++)
            {
                Assert.Equal(expected[g].Entity, actual[g].GetProperty("entity_group").GetString());
                Assert.Equal(expected[g].Score, actual[g].GetProperty("score").GetDouble(), 5);
                Assert.Equal(expected[g].Word, actual[g].GetProperty("word").GetString());
                Assert.Equal(expected[g].Start, actual[g].GetProperty("start").GetInt32());
                Assert.Equal(expected[g].End, actual[g].GetProperty("end").GetInt32());
            }

            // the text form: one line per entity
            var lines = CliHarness.RunOk("tag", "--model", model, "--text", text, "--aggregate", strategy).StdoutLines;
            Assert.Equal(expected.Count, lines.Length);
            for (int g = 0; g < lines.Length; g++)
                Assert.Matches($@"^{expected[g].Entity}\s+\d\.\d{{4}}\s+{expected[g].Start}-{expected[g].End}\s+{System.Text.RegularExpressions.Regex.Escape(expected[g].Word)}$", lines[g]);
        }
    }

    [Fact]
    public void TagAggregate_ElectraDiscriminator_OneLineError()
    {
        using var checkpoint = new SyntheticCheckpoint("electra-random", seed: 61);
        checkpoint.Add("discriminator_predictions.dense.weight", 0.4f, 32, 32);
        checkpoint.Add("discriminator_predictions.dense.bias", 0.1f, 32);
        checkpoint.Add("discriminator_predictions.dense_prediction.weight", 1.5f, 1, 32);
        checkpoint.Add("discriminator_predictions.dense_prediction.bias", 0.05f, 1);
        string dir = checkpoint.Write("electra.", c => c["architectures"] = new System.Text.Json.Nodes.JsonArray("ElectraForPreTraining"));
        CliHarness.RunUserError("--aggregate needs a token-classification head", "tag", "--model", dir, "--text", "The chef ate the meal.", "--aggregate", "simple");
        CliHarness.RunOk("tag", "--model", dir, "--text", "The chef ate the meal."); // without it, replaced-token detection runs
    }

    [Fact]
    public void TagAggregate_WithTextPairOrUnknownStrategy_OneLineError()
    {
        string model = CliHarness.Model(ModelName);
        CliHarness.RunUserError("--aggregate groups the words of one text", "tag", "--model", model, "--text", "a", "--text-pair", "b", "--aggregate", "first");
        CliHarness.RunUserError("unknown --aggregate 'best'; choose none, simple, first, average or max", "tag", "--model", model, "--text", "a", "--aggregate", "best");
    }
}
