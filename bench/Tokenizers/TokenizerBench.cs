using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using System.Text.RegularExpressions;
using MixLens.Bench.Common;
using MixLens.Engine.Tokenization;
using Ml = Microsoft.ML.Tokenizers;

namespace MixLens.Bench.Tokenizers;

/// <summary>
/// MixLens's tokenizers side by side with the fastest .NET peers, on the tokenizer fixture corpus
/// (../shared/fixtures/tokenizers, 4788 real lines in 56 languages, URLs, emoji, naughty strings):
/// <list type="bullet">
/// <item>WordPiece (bert-base-uncased, all-MiniLM-L6-v2's tokenizer.json) against FastBertTokenizer 1.2.6
/// (<c>Encode</c> into caller-owned spans: ids only, no offsets, no token strings);</item>
/// <item>byte-level BPE (roberta-base) against Microsoft.ML.Tokenizers 3.0.0 <c>BpeTokenizer</c> (vocab.json +
/// merges.txt, ByteLevel, the GPT-2 regex as pre-tokenizer);</item>
/// <item>Unigram (t5-small) against Microsoft.ML.Tokenizers 3.0.0 <c>SentencePieceTokenizer.CreateFromTokenizerJson</c>.</item>
/// </list>
/// MixLens runs its full <c>Encode</c> (ids, token strings, UTF-16 offsets, type ids, special tokens). The ML
/// tokenizers are timed twice: <c>EncodeToIds</c> and <c>EncodeToTokens</c> (ids, strings and offsets, the
/// comparable output). One pass = every corpus line once; engines alternate pass by pass, after warm-up passes, so
/// load changes on the shared machine hit all of them alike. Reported: median and minimum pass time (wall clock),
/// median thread CPU time per pass (robust to other processes on the machine), the ratios peer / MixLens of both
/// medians (above 1: MixLens is faster), bytes allocated per pass, and how many lines each engine gets exactly
/// right (MixLens: ids, tokens and offsets; the peers: ids, specials left out where the peer does not add them).
/// Run: <c>dotnet run -c Release --project bench -- tokenizers [bert] [roberta] [t5] [--rounds N] [--mixlens-only]</c>
/// (--mixlens-only: MixLens alone, e.g. under dotnet-trace).
/// </summary>
public static class TokenizerBench
{
    sealed record Line(string Text, int[] Ids, int[] NonSpecialIds, string[] Tokens, (int, int)[] Offsets);

    sealed record Engine(string Name, Func<string, int> Encode);

    public static int Run(string[] args)
    {
        int rounds = 15;
        s_mixLensOnly = args.Contains("--mixlens-only");
        var kinds = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--rounds" && i + 1 < args.Length) rounds = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
            else if (args[i] != "--mixlens-only") kinds.Add(args[i]);
        }
        if (kinds.Count == 0) kinds.AddRange(["bert", "roberta", "t5"]);
        Console.WriteLine(MachineInfo.Summary());
        Console.WriteLine($"rounds {rounds} (each: one pass of every engine over the corpus, in turn)");
        foreach (var kind in kinds)
        {
            switch (kind)
            {
                case "bert": Bert(rounds); break;
                case "roberta": Roberta(rounds); break;
                case "t5": T5(rounds); break;
                default: Console.Error.WriteLine($"unknown tokenizer '{kind}' (bert, roberta, t5)"); return 2;
            }
        }
        Console.WriteLine($"load average {MachineInfo.LoadAverage()}");
        return 0;
    }

    // --mixlens-only: time MixLens alone (for a profiler).
    static bool s_mixLensOnly;

    static string Fixture(string name) => Path.Combine(SharedPaths.Root, "fixtures", "tokenizers", name);

    static List<Line> ReadCorpus(string fixture)
    {
        var lines = new List<Line>();
        using var gzip = new GZipStream(File.OpenRead(Fixture(fixture)), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, System.Text.Encoding.UTF8);
        while (reader.ReadLine() is { } json)
        {
            if (json.Length == 0) continue;
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var ids = root.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            var mask = root.GetProperty("special_tokens_mask").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            lines.Add(new Line(
                root.GetProperty("text").GetString()!,
                ids,
                ids.Where((_, i) => mask[i] == 0).ToArray(),
                root.GetProperty("tokens").EnumerateArray().Select(x => x.GetString()!).ToArray(),
                root.GetProperty("offsets_utf16").EnumerateArray().Select(x => (x[0].GetInt32(), x[1].GetInt32())).ToArray()));
        }
        return lines;
    }

    static int ExactMixLens(ITokenizer tokenizer, List<Line> lines)
    {
        int exact = 0;
        foreach (var line in lines)
        {
            var e = tokenizer.Encode(line.Text);
            if (e.Ids.AsSpan().SequenceEqual(line.Ids) && e.Tokens.AsSpan().SequenceEqual(line.Tokens)
                && e.Offsets.AsSpan().SequenceEqual(line.Offsets)) exact++;
        }
        return exact;
    }

    static void Bert(int rounds)
    {
        var lines = ReadCorpus("bert-base-uncased.jsonl.gz");
        string dir = SharedPaths.Model("all-MiniLM-L6-v2");
        var mixlens = TokenizerFactory.Load(dir);
        var fast = new FastBertTokenizer.BertTokenizer();
        using (var stream = File.OpenRead(Path.Combine(dir, "tokenizer.json"))) fast.LoadTokenizerJson(stream);
        var ids = new long[1 << 16];
        var mask = new long[1 << 16];

        int fastExact = 0;
        foreach (var line in lines)
        {
            int n = fast.Encode(line.Text, ids, mask, null);
            if (n == line.Ids.Length && ids.AsSpan(0, n).ToArray().Select(x => (int)x).SequenceEqual(line.Ids)) fastExact++;
        }
        Compare("WordPiece, bert-base-uncased (all-MiniLM-L6-v2 tokenizer.json)", lines, rounds,
            new Engine("MixLens Encode (ids, tokens, offsets)", t => mixlens.Encode(t).Length),
            ExactMixLens(mixlens, lines),
            [(new Engine("FastBertTokenizer 1.2.6 Encode (ids into spans)", t => fast.Encode(t, ids, mask, null)), fastExact)]);
    }

    /// <summary>The GPT-2 pre-tokenization pattern, as roberta-base's tokenizer.json's ByteLevel pre-tokenizer uses it.</summary>
    const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    static void Roberta(int rounds)
    {
        var lines = ReadCorpus("roberta-base.jsonl.gz");
        string dir = Path.Combine(SharedPaths.Root, "tokenizers", "roberta-base");
        var mixlens = TokenizerFactory.Load(dir);
        var specials = new Dictionary<string, int> { ["<s>"] = 0, ["<pad>"] = 1, ["</s>"] = 2, ["<unk>"] = 3, ["<mask>"] = 50264 };
        var ml = Ml.BpeTokenizer.Create(new Ml.BpeOptions(Path.Combine(dir, "vocab.json"), Path.Combine(dir, "merges.txt"))
        {
            ByteLevel = true,
            PreTokenizer = new Ml.RegexPreTokenizer(new Regex(Gpt2Pattern, RegexOptions.Compiled), specials),
            SpecialTokens = specials,
        });
        var mlExact = lines.Count(l => ml.EncodeToIds(l.Text).SequenceEqual(l.NonSpecialIds));
        Compare("byte-level BPE, roberta-base", lines, rounds,
            new Engine("MixLens Encode (ids, tokens, offsets)", t => mixlens.Encode(t).Length),
            ExactMixLens(mixlens, lines),
            [
                (new Engine("ML.Tokenizers 3.0.0 BpeTokenizer EncodeToIds", t => ml.EncodeToIds(t).Count), mlExact),
                (new Engine("ML.Tokenizers 3.0.0 BpeTokenizer EncodeToTokens", t => ml.EncodeToTokens(t, out _).Count), mlExact),
            ]);
    }

    static void T5(int rounds)
    {
        var lines = ReadCorpus("t5-small.jsonl.gz");
        string dir = Path.Combine(SharedPaths.Root, "tokenizers", "t5-small");
        var mixlens = TokenizerFactory.Load(dir);
        Ml.SentencePieceTokenizer ml;
        using (var stream = File.OpenRead(Path.Combine(dir, "tokenizer.json")))
            ml = Ml.SentencePieceTokenizer.CreateFromTokenizerJson(stream, addBeginningOfSentence: false, addEndOfSentence: true);
        var mlExact = lines.Count(l => ml.EncodeToIds(l.Text).SequenceEqual(l.Ids));
        Compare("Unigram, t5-small", lines, rounds,
            new Engine("MixLens Encode (ids, tokens, offsets)", t => mixlens.Encode(t).Length),
            ExactMixLens(mixlens, lines),
            [
                (new Engine("ML.Tokenizers 3.0.0 SentencePieceTokenizer EncodeToIds", t => ml.EncodeToIds(t).Count), mlExact),
                (new Engine("ML.Tokenizers 3.0.0 SentencePieceTokenizer EncodeToTokens", t => ml.EncodeToTokens(t, out _).Count), mlExact),
            ]);
    }

    static void Compare(string title, List<Line> lines, int rounds, Engine mixlens, int mixlensExact, (Engine Engine, int Exact)[] peers)
    {
        var engines = new[] { (Engine: mixlens, Exact: mixlensExact) }.Concat(s_mixLensOnly ? [] : peers).ToArray();
        var texts = lines.Select(l => l.Text).ToArray();
        long chars = texts.Sum(t => (long)t.Length);
        var times = engines.Select(_ => new List<double>()).ToArray();
        var cpuTimes = engines.Select(_ => new List<double>()).ToArray();
        var allocated = new long[engines.Length];
        var tokens = new long[engines.Length];

        // Warm-up: tiered JIT to its optimised code, caches filled.
        for (int w = 0; w < 3; w++)
            foreach (var (engine, _) in engines)
                foreach (var t in texts) engine.Encode(t);
        Thread.Sleep(200);
        for (int w = 0; w < 2; w++)
            foreach (var (engine, _) in engines)
                foreach (var t in texts) engine.Encode(t);

        for (int r = 0; r < rounds; r++)
        {
            for (int e = 0; e < engines.Length; e++)
            {
                var encode = engines[e].Engine.Encode;
                long before = GC.GetAllocatedBytesForCurrentThread();
                long count = 0;
                double cpu = CpuClock.ThreadSeconds();
                var watch = Stopwatch.StartNew();
                foreach (var t in texts) count += encode(t);
                watch.Stop();
                cpuTimes[e].Add((CpuClock.ThreadSeconds() - cpu) * 1e3);
                allocated[e] = GC.GetAllocatedBytesForCurrentThread() - before;
                tokens[e] = count;
                times[e].Add(watch.Elapsed.TotalMilliseconds);
            }
        }

        double mixlensMedian = Stats.Median(times[0]), mixlensCpu = Stats.Median(cpuTimes[0]);
        Console.WriteLine();
        Console.WriteLine($"{title}: {texts.Length} lines, {chars} UTF-16 chars; load average {MachineInfo.LoadAverage()}");
        Console.WriteLine("| engine | median ms/pass | min ms/pass | median thread CPU ms/pass | peer/MixLens (median wall) | peer/MixLens (median CPU) | MB allocated/pass | tokens/pass | exact lines |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (int e = 0; e < engines.Length; e++)
        {
            double median = Stats.Median(times[e]), cpu = Stats.Median(cpuTimes[e]);
            string ratio = e == 0 ? "1" : $"{median / mixlensMedian:F2}";
            string cpuRatio = e == 0 ? "1" : $"{cpu / mixlensCpu:F2}";
            Console.WriteLine($"| {engines[e].Engine.Name} | {median:F1} | {times[e].Min():F1} | {cpu:F1} | {ratio} | {cpuRatio} | {allocated[e] / 1e6:F1} | {tokens[e]} | {engines[e].Exact}/{lines.Count} |");
        }
    }
}
