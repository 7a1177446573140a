using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using MixLens.Engine.Heads;

namespace MixLens.Cli;

/// <summary><c>tag</c>: the token-classification head's label for every token, with its character span; with
/// <c>--aggregate</c>, the entities HF's token-classification pipeline groups them into (<see cref="EntityAggregation"/>).</summary>
internal static class TagCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var device = CommonOptions.Device();
        var text = CommonOptions.Text(required: true);
        var pair = CommonOptions.TextPair();
        var truncate = CommonOptions.Truncate();
        var format = new Option<string>("--format") { Description = "output format: text or json", DefaultValueFactory = _ => "text" };
        var aggregate = new Option<string>("--aggregate")
        {
            Description = "group tokens as HF's aggregation_strategy: none (one line per token), simple, first, average or max (entities; O left out)",
            DefaultValueFactory = _ => "none",
        };
        var command = new Command("tag", "Label every token with the checkpoint's token-classification head (labels from id2label).")
        {
            model, text, pair, truncate, format, aggregate,
        };
        command.Options.Add(device);
        command.SetAction(parse =>
        {
            string fmt = parse.GetValue(format)!;
            if (fmt is not ("text" or "json")) throw new CliException($"unknown format '{fmt}'; choose text or json");
            var strategy = ParseStrategy(parse.GetValue(aggregate)!);
            string first = parse.GetValue(text)!;
            string? second = parse.GetValue(pair);
            if (strategy != AggregationStrategy.None && second is not null)
                throw new CliException("--aggregate groups the words of one text, as HF's token-classification pipeline does; it cannot be used with --text-pair");
            using var encoderModel = CommonOptions.LoadModel(parse.GetValue(model)!);
            using var backend = CommonOptions.UseDevice(encoderModel, parse.GetValue(device), parse.InvocationConfiguration.Error);
            if (!encoderModel.CanTag) encoderModel.RequireTokenClassifier(); // fails naming what is missing
            if (strategy != AggregationStrategy.None && encoderModel.TokenClassifier is null)
                throw new CliException($"--aggregate needs a token-classification head; {encoderModel.Name} is an ELECTRA discriminator, whose " +
                    "replaced-token detection has one logit per token: run tag without --aggregate");
            var encoding = encoderModel.Tokenize(first, second, parse.GetValue(truncate));
            var result = encoderModel.Tag(encoding);
            var stdout = parse.InvocationConfiguration.Output;
            if (strategy != AggregationStrategy.None)
            {
                var entities = EntityAggregation.Aggregate(encoding, result.Logits, encoderModel.TokenClassifier!.Labels, first,
                    encoderModel.Tokenizer, strategy);
                if (fmt == "json") WriteEntitiesJson(stdout, entities);
                else WriteEntitiesText(stdout, entities);
                return CliRunner.Success;
            }
            if (fmt == "json")
            {
                JsonOutput.WriteTokenLabels(stdout, encoding, result);
                return CliRunner.Success;
            }
            int tokenWidth = encoding.Tokens.Max(t => t.Length), labelWidth = result.Labels.Max(l => l.Length);
            int indexWidth = (encoding.Length - 1).ToString().Length;
            var spans = encoding.Offsets.Select((o, t) => encoding.SpecialTokensMask[t] == 0 ? $"{o.Start}-{o.End}" : "").ToArray();
            int spanWidth = spans.Max(s => s.Length);
            for (int t = 0; t < encoding.Length; t++)
            {
                string line = $"{t.ToString().PadLeft(indexWidth)} {encoding.Tokens[t].PadRight(tokenWidth)}  {result.Labels[t].PadRight(labelWidth)}";
                if (encoding.SpecialTokensMask[t] == 0)
                {
                    // The span indexes the text the token came from (--text, or --text-pair for the pair's tokens).
                    var (start, end) = encoding.Offsets[t];
                    string source = encoding.SequenceIds[t] == 1 ? second! : first;
                    line += $"  {spans[t].PadRight(spanWidth)}  {Printable(source[start..end])}";
                }
                stdout.WriteLine(line.TrimEnd());
            }
            return CliRunner.Success;
        });
        return command;
    }

    static AggregationStrategy ParseStrategy(string name) => name switch
    {
        "none" => AggregationStrategy.None,
        "simple" => AggregationStrategy.Simple,
        "first" => AggregationStrategy.First,
        "average" => AggregationStrategy.Average,
        "max" => AggregationStrategy.Max,
        _ => throw new CliException($"unknown --aggregate '{name}'; choose none, simple, first, average or max"),
    };

    /// <summary>One line per entity: "entity score start-end word", columns aligned; nothing when there is none.</summary>
    static void WriteEntitiesText(TextWriter output, IReadOnlyList<EntityGroup> entities)
    {
        if (entities.Count == 0) return;
        int entityWidth = entities.Max(e => e.Entity.Length);
        var spans = entities.Select(e => $"{e.Start}-{e.End}").ToArray();
        int spanWidth = spans.Max(s => s.Length);
        for (int k = 0; k < entities.Count; k++)
        {
            var e = entities[k];
            output.WriteLine($"{e.Entity.PadRight(entityWidth)}  {e.Score.ToString("0.0000", CultureInfo.InvariantCulture)}  {spans[k].PadRight(spanWidth)}  {Printable(e.Word)}");
        }
    }

    /// <summary><c>{"entities": [{"entity_group", "score", "word", "start", "end"}, …]}</c>, HF's field names.</summary>
    static void WriteEntitiesJson(TextWriter output, IReadOnlyList<EntityGroup> entities)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartArray("entities");
            foreach (var e in entities)
            {
                w.WriteStartObject();
                w.WriteString("entity_group", e.Entity);
                w.WriteNumber("score", (float)e.Score);
                w.WriteString("word", e.Word);
                w.WriteNumber("start", e.Start);
                w.WriteNumber("end", e.End);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    /// <summary>A token's text on one line: a newline, carriage return or tab inside it (a byte-level BPE token such
    /// as <c>Ċ</c> covers one) is written \n, \r, \t.</summary>
    static string Printable(string span) => span.Replace("\n", "\\n").Replace("\r", "\\r").Replace("\t", "\\t");
}
