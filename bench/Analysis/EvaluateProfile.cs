using System.Diagnostics;
using System.Globalization;
using MixLens.Analysis;
using MixLens.Analysis.Evaluation;
using MixLens.Bench.Common;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;
using MixLens.Kernels;

namespace MixLens.Bench;

/// <summary>
/// Where <c>evaluate</c>'s time goes: the first N sentences of SST-2 dev on minilm-l6-sst2, one sentence at a time on
/// one thread, each phase of <see cref="FaithfulnessEvaluation"/>'s per-sentence work timed on its own (the traced
/// forward, each method, blank-out, AOPC, ERASER), with the same public calls the evaluation makes.
/// Run: <c>dotnet run -c Release --project bench -- evaluate-profile [--limit N] [--methods a,b,…] [--threads T] [--separate]</c>
/// (<c>--separate</c>: blank-out, AOPC and ERASER timed apart, one batch per metric and method, the way evaluate ran them
/// before <see cref="PerturbedForwards"/>).
/// </summary>
public static class EvaluateProfile
{
    public static int Run(string[] args)
    {
        int limit = IntOption(args, "--limit", 30);
        int threads = IntOption(args, "--threads", 1);
        int at = Array.IndexOf(args, "--methods");
        var methods = at >= 0
            ? args[at + 1].Split(',').Select(n => MixingMethods.TryParse(n, out var m) ? m : throw new ArgumentException(n)).ToList()
            : [.. FaithfulnessEvaluation.DefaultMethods, MixingMethod.Flow];
        Parallelism.MaxThreads = threads;
        Console.WriteLine($"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {threads} thread(s); load average {MachineInfo.LoadAverage()}");
        using var model = EncoderModel.Load(SharedPaths.Model("minilm-l6-sst2"));
        var sentences = LabeledTsv.Read(Path.Combine(SharedPaths.Root, "data", "sst2-dev.tsv"), limit);
        // per phase: wall seconds and this thread's CPU seconds (every kernel runs on it: MaxThreads = 1 by default)
        var time = new Dictionary<string, (double Wall, double Cpu)>();
        double cpuMark = CpuClock.ThreadSeconds();
        void Add(string phase, Stopwatch sw)
        {
            double cpu = CpuClock.ThreadSeconds();
            var (wall, used) = time.GetValueOrDefault(phase);
            time[phase] = (wall + sw.Elapsed.TotalSeconds, used + cpu - cpuMark);
            cpuMark = cpu;
        }
        var total = Stopwatch.StartNew();
        int maskId = model.Tokenizer.MaskId!.Value, layers = model.Encoder.Config.NumHiddenLayers;
        long tokens = 0;
        var counts = new long[10];
        bool separate = args.Contains("--separate");
        foreach (var sentence in sentences)
        {
            var sw = Stopwatch.StartNew();
            cpuMark = CpuClock.ThreadSeconds();
            var encoding = model.Tokenize(sentence.Text, truncate: true);
            var input = EncoderInput.From(encoding);
            var (hidden, trace) = model.Encoder.Forward(input, TraceRequest.All);
            var logits = model.Classifier!.Classify(hidden).Logits;
            int predicted = PredictionScore.Predicted(logits, model.Classifier.Function);
            double p = PredictionScore.Of(logits, predicted, model.Classifier.Function);
            Add("forward (traced)", sw);
            tokens += encoding.Length;
            var positions = Enumerable.Range(0, encoding.Length).Where(j => encoding.SpecialTokensMask[j] == 0).ToArray();
            var gradients = GradientOptions.ForText(model, encoding, predicted) with { AttAttrAllLayers = false };
            var bases = new Dictionary<MixingMethod, Tensor>();
            var scores = new Dictionary<MixingMethod, double[]?>();
            foreach (var method in methods)
            {
                if (method == MixingMethod.Flow && encoding.Length > 32) { scores[method] = null; continue; }
                sw.Restart(); cpuMark = CpuClock.ThreadSeconds();
                var result = MixingMethods.ComputeSharing(method, model.Encoder, input, trace, bases, flowAllLayers: false, gradients: gradients, rows: [0]);
                scores[method] = MixingMethods.IsTokenVector(method)
                    ? positions.Select(j => (double)result.Data[j]).ToArray()
                    : positions.Select(j => (double)result[layers - 1, 0, j]).ToArray();
                Add(MixingMethods.NameOf(method), sw);
            }
            CountVariants(encoding.Length, positions, scores.Values.Where(v => v is not null).ToList()!, counts);
            if (separate)
            {
                // one batch per metric (per method for AOPC), as evaluate ran them before PerturbedForwards
                var score = FaithfulnessEvaluation.ModelScore(model, encoding.TypeIds, predicted);
                sw.Restart(); cpuMark = CpuClock.ThreadSeconds();
                BlankOut.Importances(encoding.Ids, positions, maskId, p, score);
                Add("blank-out", sw);
                sw.Restart(); cpuMark = CpuClock.ThreadSeconds();
                foreach (var s in scores.Values) if (s is not null) Aopc.Compute(encoding.Ids, positions, s, maskId, p, score);
                Add("aopc", sw);
                sw.Restart(); cpuMark = CpuClock.ThreadSeconds();
                FaithfulnessEvaluation.EraserSentence(input, positions, p, FaithfulnessEvaluation.ModelInputScore(model, predicted), scores);
                Add("eraser", sw);
            }
            else
            {
                // what evaluate does: every metric's copies recorded, run once each in packed batches, then read back
                sw.Restart(); cpuMark = CpuClock.ThreadSeconds();
                var forwards = new PerturbedForwards(FaithfulnessEvaluation.ModelInputScore(model, predicted));
                FaithfulnessEvaluation.EvaluateSentence(encoding.Ids, positions, maskId, p, forwards.RecordingIds(encoding.TypeIds), scores);
                FaithfulnessEvaluation.EraserSentence(input, positions, p, forwards.Recording, scores);
                forwards.Run();
                FaithfulnessEvaluation.EvaluateSentence(encoding.Ids, positions, maskId, p, forwards.CachedIds(encoding.TypeIds), scores);
                FaithfulnessEvaluation.EraserSentence(input, positions, p, forwards.Cached, scores);
                Add("blank-out + AOPC + ERASER (PerturbedForwards)", sw);
                counts[8] += forwards.Distinct;
                counts[9] += forwards.Requested;
            }
        }
        double all = total.Elapsed.TotalSeconds, allCpu = time.Values.Sum(t => t.Cpu);
        Console.WriteLine($"{sentences.Count} sentences, {tokens} tokens (mean n {tokens / (double)sentences.Count:F1}), {all:F1} s wall, " +
                          $"{allCpu:F1} s CPU in the phases");
        Console.WriteLine("| phase | CPU seconds | % of CPU | CPU ms / sentence | wall seconds |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var (phase, t) in time.OrderByDescending(t => t.Value.Cpu))
            Console.WriteLine($"| {phase} | {t.Cpu:F2} | {100 * t.Cpu / allCpu:F1} | {1000 * t.Cpu / sentences.Count:F1} | {t.Wall:F2} |");
        Console.WriteLine($"perturbed forwards, tokens (variants): blank-out {counts[0]} ({counts[1]}); AOPC {counts[2]} ({counts[3]}), " +
                          $"distinct {counts[4]}; ERASER {counts[5]}, distinct {counts[6]} ({counts[7]} variants); " +
                          $"PerturbedForwards: {counts[8]} distinct of {counts[9]} asked");
        Console.WriteLine($"load average at the end {MachineInfo.LoadAverage()}");
        return 0;
    }

    /// <summary>Tokens and variants of the perturbed forwards of one sentence: blank-out, AOPC (masked, same length) and
    /// ERASER (deleted), in total and counting each distinct sequence once.</summary>
    static void CountVariants(int n, int[] positions, List<double[]> scores, long[] counts)
    {
        int m = positions.Length;
        counts[0] += (long)m * n;
        counts[1] += m;
        var masked = new HashSet<string>();
        foreach (int j in positions) masked.Add(j.ToString(CultureInfo.InvariantCulture));
        int blank = masked.Count;
        var deleted = new HashSet<string>();
        foreach (var s in scores)
        {
            var ranking = Aopc.Ranking(positions, s);
            foreach (double q in Aopc.DefaultFractions)
            {
                counts[2] += n;
                counts[3]++;
                masked.Add(string.Join(",", ranking.Take(Aopc.Count(q, m)).Order()));
            }
            foreach (int k in Eraser.Counts(m))
            {
                counts[5] += n - k + k + (n - m);
                if (deleted.Add("-" + string.Join(",", ranking.Take(k).Order()))) counts[6] += n - k;
                if (deleted.Add("+" + string.Join(",", ranking.Take(k).Order()))) counts[6] += k + (n - m);
            }
        }
        counts[4] += (masked.Count - blank) * (long)n;
        counts[7] += deleted.Count;
    }

    static int IntOption(string[] args, string name, int fallback)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
