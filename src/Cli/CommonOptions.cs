using System.CommandLine;
using MixLens.Analysis;
using MixLens.Engine;
using MixLens.Engine.Hub;
using MixLens.Engine.Model;
using MixLens.Gpu;

namespace MixLens.Cli;

/// <summary>The options every command shares: --model, --text, --text-pair, --input, --truncate.</summary>
internal static class CommonOptions
{
    public static Option<string> Model() => new("--model")
    {
        Description = "HuggingFace model directory (config.json, model.safetensors, tokenizer files), or a hub repository "
            + "org/name[@revision]: taken from the HuggingFace hub cache, downloading what it lacks (HF_HUB_OFFLINE=1: never)",
        Required = true,
    };

    public static Option<string?> Text(bool required) => new("--text")
    {
        Description = "the text to analyse",
        Required = required,
    };

    public static Option<string?> TextPair() => new("--text-pair")
    {
        Description = "an optional second text (sentence pair: [CLS] text [SEP] pair [SEP])",
    };

    public static Option<string?> Input() => new("--input")
    {
        Description = "a UTF-8 file with one text per line (lines split on \\n only)",
    };

    public static Option<bool> Truncate() => new("--truncate")
    {
        Description = "truncate inputs longer than the model's limit (max_position_embeddings) instead of failing",
    };

    /// <summary>--device: where the model runs (docs/gpu.md).</summary>
    public static Option<string> Device()
    {
        var option = new Option<string>("--device")
        {
            Description = "where the model runs: cpu (the SIMD kernels; default), cuda (the first CUDA GPU, through ILGPU; "
                + "an error when there is none), auto (cuda when a device is found, else cpu, saying so on stderr)",
            DefaultValueFactory = _ => "cpu",
        };
        option.AcceptOnlyFromAmong("cpu", "cuda", "auto");
        return option;
    }

    /// <summary>Puts <paramref name="model"/>'s encoder on the --device asked for; returns what to dispose at the end
    /// (the GPU backend), or null for the CPU.</summary>
    /// <exception cref="CliException">--device cuda and no CUDA device could be opened (the message says why).</exception>
    public static IDisposable? UseDevice(EncoderModel model, string? device, TextWriter? stderr)
    {
        EncoderBackend backend;
        try
        {
            backend = Devices.Open(Devices.Parse(device ?? "cpu"), stderr);
        }
        catch (GpuDeviceNotFoundException e)
        {
            throw new CliException(e.Message);
        }
        model.Encoder.Backend = backend;
        return backend as IDisposable;
    }

    /// <summary>Loads the model: a directory, or a hub repository id (see <see cref="Hub"/>).</summary>
    public static EncoderModel LoadModel(string model) => EncoderModel.Load(model, Hub(model));

    /// <summary>Set by tests to use their own hub cache and server without touching the process environment.</summary>
    internal static readonly AsyncLocal<HubOptions?> HubOverride = new();

    /// <summary>The hub settings for <paramref name="model"/>: null for an existing directory (nothing to resolve),
    /// else the environment's (huggingface_hub's variables) with a progress bar when stderr is a terminal.</summary>
    public static HubOptions? Hub(string model)
    {
        if (Directory.Exists(model)) return null;
        if (HubOverride.Value is { } options) return options;
        return HubOptions.FromEnvironment() with { Progress = Console.IsErrorRedirected ? null : new DownloadProgressBar(Console.Error) };
    }

    /// <summary>The texts of --text or --input, and --text-pair, which only goes with a single --text.</summary>
    public static (IReadOnlyList<string> Texts, string? Pair) ReadTexts(string? text, string? inputPath, string? pair)
    {
        var texts = ReadTexts(text, inputPath);
        if (pair is not null && texts.Count != 1) throw new CliException("--text-pair goes with --text, not with --input");
        return (texts, pair);
    }

    /// <summary>The texts of --text or --input (exactly one of them must be given).</summary>
    public static IReadOnlyList<string> ReadTexts(string? text, string? inputPath)
    {
        if (text is not null && inputPath is not null) throw new CliException("give either --text or --input, not both");
        if (text is not null) return [text];
        if (inputPath is null) throw new CliException("give the text with --text TEXT or a file of texts with --input FILE");
        if (!File.Exists(inputPath)) throw new CliException($"input file '{inputPath}' not found");
        string content;
        try
        {
            content = File.ReadAllText(inputPath, new System.Text.UTF8Encoding(false, true));
        }
        catch (System.Text.DecoderFallbackException e)
        {
            throw new CliException($"input file '{inputPath}' is not valid UTF-8 ({e.Message})");
        }
        if (content.Length == 0) return [];
        var lines = content.Split('\n');
        // A final "\n" ends the last line; it does not start an empty one.
        return content.EndsWith('\n') ? lines[..^1] : lines;
    }

    /// <summary>Whether --methods is "all".</summary>
    public static bool IsAll(string? list) =>
        list?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) is [var only] && only.Equals("all", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The methods of --methods that <paramref name="model"/> can run: for "all" on a checkpoint without a
    /// sequence-classification head, every method but those that explain a classifier's class
    /// (<see cref="MixingMethods.NeedsClassifier"/>); a list that names such a method is refused in one line
    /// (<see cref="GradientOptionsCli.RequireClassifierFor"/>).
    /// </summary>
    /// <exception cref="CliException">a named method needs a head the checkpoint lacks.</exception>
    public static IReadOnlyList<MixingMethod> ForModel(IReadOnlyList<MixingMethod> methods, string? list, EncoderModel model)
    {
        if (IsAll(list) && model.Classifier is null) return methods.Where(m => !MixingMethods.NeedsClassifier(m)).ToArray();
        GradientOptionsCli.RequireClassifierFor(model, methods);
        return methods;
    }

    /// <summary>Parses --methods: method names separated by commas (spaces allowed), or "all" (every method, in the
    /// order of <see cref="MixingMethods.Names"/>); null gives <paramref name="defaults"/>.</summary>
    /// <exception cref="CliException">an empty list, an unknown name, or a name listed twice.</exception>
    public static IReadOnlyList<MixingMethod> ParseMethods(string? list, IReadOnlyList<MixingMethod> defaults)
    {
        if (list is null) return defaults;
        var names = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 0) throw new CliException("--methods is empty; give method names separated by commas, or 'all'");
        if (names.Length == 1 && names[0].Equals("all", StringComparison.OrdinalIgnoreCase))
            return MixingMethods.Names.Select(n => MixingMethods.TryParse(n, out var m) ? m : throw new InvalidOperationException(n)).ToArray();
        var result = new List<MixingMethod>();
        foreach (var name in names)
        {
            if (!MixingMethods.TryParse(name, out var m))
                throw new CliException($"unknown method '{name}' in --methods; choose from: {string.Join(", ", MixingMethods.Names)} (or 'all')");
            if (result.Contains(m)) throw new CliException($"method '{MixingMethods.NameOf(m)}' is listed twice in --methods");
            result.Add(m);
        }
        return result;
    }
}
