using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using MixLens.Analysis;
using MixLens.Analysis.Corpus;
using MixLens.Analysis.Cost;
using Spectre.Console;

namespace MixLens.Cli;

/// <summary>
/// <c>analyze-corpus</c>: context-mixing methods on every line of a JSONL corpus (<see cref="CorpusRun"/>), results as
/// JSONL (<see cref="JsonlResultFile"/>) or one safetensors file per line (<see cref="SafeTensorsResultDirectory"/>);
/// resumable with <c>--resume</c>, a live progress bar on a terminal and plain progress lines otherwise.
/// </summary>
internal static class AnalyzeCorpusCommand
{
    /// <summary>Default seconds between plain progress lines when stderr is not a terminal.</summary>
    const double PlainProgressSeconds = 10;

    public static Command Create()
    {
        var model = CommonOptions.Model();
        var device = CommonOptions.Device();
        var input = new Option<string>("--input")
        {
            Description = "JSONL corpus: one {\"text\": …, \"text_pair\": …} object per line (text_pair optional)",
            Required = true,
        };
        var methods = new Option<string>("--methods")
        {
            Description = $"comma-separated methods, or 'all' (on a model without a sequence-classification head: all but those that explain its class): {string.Join(", ", MixingMethods.Names)}",
            DefaultValueFactory = _ => "attention",
        };
        var output = new Option<string?>("--out") { Description = "JSONL output file (--format jsonl): one result line per analysed input line" };
        var outDir = new Option<string?>("--out-dir") { Description = "output directory (--format safetensors): line-NNNNNN.safetensors per analysed input line" };
        var format = new Option<string>("--format") { Description = "jsonl (default, with --out) or safetensors (with --out-dir)", DefaultValueFactory = _ => "jsonl" };
        var resume = new Option<bool>("--resume") { Description = "keep the results already in the output and analyse only the remaining lines" };
        var overwrite = new Option<bool>("--overwrite") { Description = "discard results already in the output and start again" };
        var truncate = CommonOptions.Truncate();
        var flowLayers = new Option<string>("--flow-layers")
        {
            Description = "flow only: compute every layer (all) or only the last (last; faster)",
            DefaultValueFactory = _ => "all",
        };
        var steps = GradientOptionsCli.Steps(several: true);
        var htaMax = GradientOptionsCli.HtaMaxTokens("skipped (reported and counted, as bad lines)");
        var jobs = new Option<int?>("--jobs") { Description = "examples analysed at once (default: the number of cores; the output does not depend on it)" };
        var progressEvery = new Option<double>("--progress-every")
        {
            Description = "seconds between progress lines on stderr when it is not a terminal (0: after every line)",
            DefaultValueFactory = _ => PlainProgressSeconds,
        };

        var budget = new BudgetOptions();
        var command = new Command("analyze-corpus", "Context-mixing methods on every line of a JSONL corpus, resumable.")
        {
            model, input, methods, output, outDir, format, resume, overwrite, truncate, flowLayers, steps, htaMax, jobs, progressEvery,
        };
        foreach (var option in budget.All) command.Options.Add(option);
        command.Options.Add(device);
        command.SetAction(parse =>
        {
            string methodList = parse.GetValue(methods)!;
            var chosen = CommonOptions.ParseMethods(methodList, []);
            int? stepCount = GradientOptionsCli.CheckSteps(parse.GetValue(steps));
            int htaLimit = GradientOptionsCli.CheckHtaMaxTokens(parse.GetValue(htaMax));
            string fmt = parse.GetValue(format)!;
            string? outPath = parse.GetValue(output), dirPath = parse.GetValue(outDir);
            switch (fmt)
            {
                case "jsonl":
                    if (outPath is null) throw new CliException("give --out FILE.jsonl for the results (or --format safetensors --out-dir DIR)");
                    if (dirPath is not null) throw new CliException("--out-dir goes with --format safetensors; --format jsonl writes one --out file");
                    break;
                case "safetensors":
                    if (dirPath is null) throw new CliException("--format safetensors writes one file per line: give --out-dir DIR");
                    if (outPath is not null) throw new CliException("--out goes with --format jsonl; --format safetensors writes into --out-dir");
                    break;
                default:
                    throw new CliException($"unknown format '{fmt}'; choose jsonl or safetensors");
            }
            bool resuming = parse.GetValue(resume), replacing = parse.GetValue(overwrite);
            if (resuming && replacing) throw new CliException("give either --resume or --overwrite, not both");
            var existing = resuming ? ExistingOutput.Resume : replacing ? ExistingOutput.Overwrite : ExistingOutput.Refuse;
            string flowChoice = parse.GetValue(flowLayers)!;
            if (flowChoice is not ("all" or "last")) throw new CliException($"unknown --flow-layers '{flowChoice}'; choose all or last");
            int workers = parse.GetValue(jobs) ?? Environment.ProcessorCount;
            if (workers < 1) throw new CliException($"--jobs must be at least 1, not {workers}");
            double interval = parse.GetValue(progressEvery);
            if (!(interval >= 0) || double.IsInfinity(interval)) throw new CliException($"--progress-every must be a number of seconds, 0 or more, not {interval}");
            string inputPath = parse.GetValue(input)!;
            if (!File.Exists(inputPath)) throw new CliException($"input file '{inputPath}' not found");
            if (outPath is not null && Path.GetFullPath(outPath) == Path.GetFullPath(inputPath))
                throw new CliException($"--out '{outPath}' is the input file; give another output file");

            var costBudget = budget.Resolve(parse);
            var entries = CorpusInput.Read(inputPath);
            using var encoderModel = CommonOptions.LoadModel(parse.GetValue(model)!);
            using var backend = CommonOptions.UseDevice(encoderModel, parse.GetValue(device), parse.InvocationConfiguration.Error);
            chosen = CommonOptions.ForModel(chosen, methodList, encoderModel);   // a method needing a missing head: one line, before starting
            if (chosen.Count == 0) throw new CliException($"--methods {methodList}: {encoderModel.Name} can run none of them");
            // --steps only matters (and is only recorded) when a method takes steps
            int? usedSteps = chosen.Any(MixingMethods.TakesSteps) ? stepCount : null;
            var options = new CorpusAnalysisOptions(chosen, parse.GetValue(truncate), flowChoice == "all", usedSteps, htaLimit);
            CheckCost(encoderModel, entries, options, Math.Min(workers, Math.Max(1, entries.Count)), costBudget, parse.InvocationConfiguration.Error);
            using IResultSink sink = OpenSink(fmt, outPath, dirPath, existing, encoderModel.Name, chosen, entries, usedSteps);

            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error!;
            if (sink.ResumeNote is not null) stderr.WriteLine($"analyze-corpus: {sink.ResumeNote}");
            if (sink.KeptResults > 0) stderr.WriteLine($"analyze-corpus: resuming: {sink.KeptResults} results kept in {sink.Location}");
            string inputName = Path.GetFileName(inputPath);
            string Report(SkippedLine s) => $"mixlens: {inputName}, line {s.Line}: {s.Reason}; skipped";

            bool realConsole = ReferenceEquals(stderr, Console.Error);
            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler? onCancel = null;
            System.Runtime.InteropServices.PosixSignalRegistration? onTerm = null;
            if (realConsole)
            {
                // First Ctrl-C (or SIGTERM): stop after the results finished so far are written; a second Ctrl-C
                // kills as usual. A kill -9 is safe as well: complete lines are on disk, a torn one is cut on --resume.
                // Returns whether this signal started the stop (and so must not end the process).
                bool StopOnFirstSignal(string note)
                {
                    if (cancel.IsCancellationRequested) return false;
                    Console.Error.WriteLine($"analyze-corpus: stopping after the examples in progress ({note})");
                    cancel.Cancel();
                    return true;
                }
                onCancel = (_, e) =>
                {
                    if (StopOnFirstSignal("Ctrl-C again to quit at once; finished results are kept")) e.Cancel = true;
                };
                Console.CancelKeyPress += onCancel;
                onTerm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
                {
                    if (StopOnFirstSignal("finished results are kept")) context.Cancel = true;
                });
            }
            var clock = Stopwatch.StartNew();
            CorpusRunSummary summary;
            try
            {
                summary = realConsole && !Console.IsErrorRedirected
                    ? RunWithProgressBar(encoderModel, entries, options, sink, workers, Report, cancel.Token)
                    : RunWithProgressLines(encoderModel, entries, options, sink, workers, Report, stderr, clock, interval, cancel.Token);
            }
            finally
            {
                if (onCancel is not null) Console.CancelKeyPress -= onCancel;
                onTerm?.Dispose();
            }
            clock.Stop();

            double seconds = clock.Elapsed.TotalSeconds;
            string rate = seconds > 0 ? $", {summary.Analysed / seconds:0.##} examples/s" : "";
            string skippedText = summary.Skipped.Count == 0 ? "no line skipped"
                : $"{summary.Skipped.Count} line{(summary.Skipped.Count == 1 ? "" : "s")} skipped ({LineList(summary.Skipped)})";
            string kept = summary.AlreadyDone > 0 ? $", {summary.AlreadyDone} already done" : "";
            if (!summary.Completed)
            {
                stderr.WriteLine($"analyze-corpus: interrupted after {summary.Analysed} new results in {sink.Location} ({skippedText}{kept}); " +
                                 "run the same command with --resume to continue");
                return 130;
            }
            stdout.WriteLine($"analysed {summary.Analysed} of {summary.Lines} lines into {sink.Location}: {skippedText}{kept}; " +
                             $"{seconds.ToString("0.0", CultureInfo.InvariantCulture)} s{rate}");
            return CliRunner.Success;
        });
        return command;
    }

    /// <summary>Refuses the run, before it starts, when its costliest line is over the budget (its memory times the
    /// lines run at once); prints the estimate of the whole run on the process's stderr when it is long.</summary>
    static void CheckCost(MixLens.Engine.EncoderModel model, IReadOnlyList<CorpusEntry> entries, CorpusAnalysisOptions options,
        int concurrent, CostBudget budget, TextWriter? stderr)
    {
        var lengths = new List<(int Line, int Tokens)>();
        foreach (var entry in entries)
        {
            if (entry is not CorpusExample example) continue;
            try
            {
                int n = model.Tokenize(example.Text, example.TextPair, options.Truncate).Length;
                if (options.Methods.Contains(MixingMethod.Hta) && n > options.HtaMaxTokens) continue;   // skipped by the run
                lengths.Add((example.Line, n));
            }
            catch (Exception e) when (e is Engine.Model.EncoderInputException or Engine.Tokenization.TokenizerException)
            {
                // reported and skipped by the run itself
            }
        }
        if (lengths.Count == 0) return;
        var costOptions = new CostOptions(options.FlowAllLayers, Steps: options.Steps);
        CostEstimate Line(int n) => CostModel.Several(options.Methods, model.Config, n, costOptions);
        var (line, longest) = lengths.MaxBy(l => l.Tokens);
        var costliest = Line(longest);
        costliest = costliest with
        {
            What = $"line {line} ({longest} tokens{(concurrent > 1 ? $", {concurrent} lines at once" : "")})",
            PeakBytes = costliest.PeakBytes * concurrent,
        };
        var alternatives = new List<(string, CostEstimate)>();
        if (options.Methods.Contains(MixingMethod.Flow) && options.FlowAllLayers)
            alternatives.Add(("--flow-layers last", CostModel.Several(options.Methods, model.Config, longest, costOptions with { FlowAllLayers = false })));
        if (concurrent > 1) alternatives.Add(("--jobs 1", Line(longest)));
        BudgetOptions.Check(costliest, budget, alternatives);
        double total = lengths.Sum(l => Line(l.Tokens).Seconds);
        if (ReferenceEquals(stderr, Console.Error) && total >= WorkProgress.QuietBelowSeconds)
            Console.Error.WriteLine($"mixlens: analyze-corpus on {lengths.Count} lines: estimated about {CostEstimate.Duration(total)} " +
                $"(the longest line, {longest} tokens: {Line(longest).Summary})");
    }

    static IResultSink OpenSink(string format, string? outPath, string? dirPath, ExistingOutput existing, string model,
        IReadOnlyList<MixingMethod> methods, IReadOnlyList<CorpusEntry> entries, int? steps)
    {
        try
        {
            return format == "jsonl"
                ? JsonlResultFile.Open(outPath!, existing, model, methods, entries, steps)
                : SafeTensorsResultDirectory.Open(dirPath!, existing, model, methods, entries, steps);
        }
        catch (CorpusOutputException e)
        {
            throw new CliException(e.Message);
        }
    }

    static string LineList(IReadOnlyList<SkippedLine> skipped)
    {
        const int shown = 10;
        string lines = string.Join(", ", skipped.Take(shown).Select(s => s.Line));
        return (skipped.Count == 1 ? "line " : "lines ") + lines + (skipped.Count > shown ? ", …" : "");
    }

    /// <summary>Plain lines on stderr: every bad line as found, and a progress line every <paramref name="interval"/> s.</summary>
    static CorpusRunSummary RunWithProgressLines(MixLens.Engine.EncoderModel model, IReadOnlyList<CorpusEntry> entries, CorpusAnalysisOptions options,
        IResultSink sink, int workers, Func<SkippedLine, string> report, TextWriter stderr, Stopwatch clock, double interval, CancellationToken cancellation)
    {
        double nextReport = interval;
        return CorpusRun.Run(model, entries, options, sink, workers,
            skipped: s => stderr.WriteLine(report(s)),
            progress: (done, total) =>
            {
                double elapsed = clock.Elapsed.TotalSeconds;
                if (elapsed < nextReport || done == total) return;
                nextReport = elapsed + interval;
                double rate = done / elapsed;
                string eta = rate > 0 ? Duration((total - done) / rate) : "?";
                stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"analyze-corpus: {done}/{total} lines ({100.0 * done / total:0.0}%), {rate:0.##} examples/s, ETA {eta}"));
            },
            cancellation: cancellation);
    }

    /// <summary>A Spectre.Console progress bar on the terminal: lines done, examples/s, elapsed time and ETA; bad lines printed above it.</summary>
    static CorpusRunSummary RunWithProgressBar(MixLens.Engine.EncoderModel model, IReadOnlyList<CorpusEntry> entries, CorpusAnalysisOptions options,
        IResultSink sink, int workers, Func<SkippedLine, string> report, CancellationToken cancellation)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var messages = new System.Collections.Concurrent.ConcurrentQueue<string>();
        int done = 0, total = -1;   // total: the lines to do, once CorpusRun has counted them
        CorpusRunSummary? summary = null;
        Exception? failure = null;
        var worker = new Thread(() =>
        {
            try
            {
                summary = CorpusRun.Run(model, entries, options, sink, workers,
                    started: t => Volatile.Write(ref total, t),
                    skipped: s => messages.Enqueue(report(s)),
                    progress: (d, _) => Volatile.Write(ref done, d),
                    cancellation: cancellation);
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { IsBackground = true, Name = "mixlens-analyze-corpus" };

        console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var task = context.AddTask("analyze-corpus", maxValue: 1);
                var clock = Stopwatch.StartNew();
                worker.Start();
                while (true)
                {
                    bool finished = worker.Join(200);
                    while (messages.TryDequeue(out var message)) console.WriteLine(message);
                    int t = Volatile.Read(ref total), d = Volatile.Read(ref done);
                    if (t >= 0)
                    {
                        double rate = d / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
                        task.MaxValue = Math.Max(t, 1);
                        task.Value = d;
                        task.Description = string.Create(CultureInfo.InvariantCulture, $"{d}/{t} lines · {rate:0.##} examples/s");
                    }
                    if (finished) break;
                }
                if (summary is { Completed: true }) task.Value = task.MaxValue;
            });
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        return summary!;
    }

    static string Duration(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Round(seconds));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m" : t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds:00}s" : $"{t.Seconds}s";
    }
}
