using System.CommandLine;
using System.Globalization;
using MixLens.Analysis;
using MixLens.Analysis.Methods;
using MixLens.Engine;
using MixLens.Engine.Heads;
using MixLens.Engine.Model;

namespace MixLens.Cli;

/// <summary>
/// The options of the gradient methods shared by analyze, evaluate, analyze-corpus and view: <c>--target</c> (a class
/// id or id2label name), <c>--steps</c> (integrated-gradients and attattr) and <c>--hta-max-tokens</c>, and the checks
/// that turn their bad values into one error line.
/// </summary>
internal static class GradientOptionsCli
{
    /// <summary>The methods that explain a classifier's class, for messages: "saliency, gradient-x-input, …".</summary>
    static string ClassifierMethodNames =>
        string.Join(", ", Enum.GetValues<MixingMethod>().Where(MixingMethods.NeedsClassifier).Select(MixingMethods.NameOf));

    public static Option<string?> Target() => new("--target")
    {
        Description = $"the class to explain, a class id or an id2label name (default: the predicted class); {ClassifierMethodNames} only",
    };

    public static Option<int?> Steps(bool several) => new("--steps")
    {
        Description = several
            ? $"steps of integrated-gradients (default {IntegratedGradients.DefaultSteps}, Gauss–Legendre) and attattr (default {AttentionAttribution.DefaultSteps}, left Riemann sum)"
            : $"integrated-gradients: Gauss–Legendre points (default {IntegratedGradients.DefaultSteps}); attattr: left Riemann steps (default {AttentionAttribution.DefaultSteps})",
    };

    public static Option<int> HtaMaxTokens(string beyond) => new("--hta-max-tokens")
    {
        Description = $"hta only: its cost grows as n²·d (n·d forward-mode passes), so texts longer than this many tokens are {beyond}",
        DefaultValueFactory = _ => HiddenTokenAttribution.DefaultMaxTokens,
    };

    /// <summary>The smallest <c>--hta-max-tokens</c>: room for the special tokens of a pair.</summary>
    public const int MinHtaMaxTokens = 4;

    /// <summary>Checks <c>--steps</c> (null: the defaults).</summary>
    /// <exception cref="CliException">steps ≤ 0.</exception>
    public static int? CheckSteps(int? steps)
    {
        if (steps is < 1)
            throw new CliException($"--steps must be at least 1, not {steps} (integrated-gradients default {IntegratedGradients.DefaultSteps}, attattr default {AttentionAttribution.DefaultSteps})");
        return steps;
    }

    /// <exception cref="CliException">a limit below <see cref="MinHtaMaxTokens"/>.</exception>
    public static int CheckHtaMaxTokens(int limit)
    {
        if (limit < MinHtaMaxTokens) throw new CliException($"--hta-max-tokens must be at least {MinHtaMaxTokens}, not {limit}");
        return limit;
    }

    /// <summary>The classifier head the chosen methods explain, or null when none of them needs one.</summary>
    /// <exception cref="CliException">a method needs a sequence-classification head and the checkpoint has none (or a
    /// malformed one): one line naming the methods and what the checkpoint lacks.</exception>
    public static SequenceClassifier? RequireClassifierFor(EncoderModel model, IReadOnlyList<MixingMethod> methods)
    {
        var needing = methods.Where(MixingMethods.NeedsClassifier).ToArray();
        if (needing.Length == 0) return null;
        try
        {
            return model.RequireClassifier();
        }
        catch (ModelFormatException e)
        {
            string which = string.Join(", ", needing.Select(MixingMethods.NameOf));
            throw new CliException($"{which} explain{(needing.Length == 1 ? "s" : "")} the class of a sequence classifier, and {model.Name} has none " +
                $"(hta and attention-norm-res-ln need no head): {e.Message}");
        }
    }

    /// <summary>Parses <c>--target</c>: a class id, or a label name (id2label; exact, else case-insensitive).</summary>
    /// <exception cref="CliException">no such class: one line listing the classes.</exception>
    public static int ResolveTarget(string value, SequenceClassifier head, string model)
    {
        var labels = head.Labels;
        if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int id))
        {
            if (id >= 0 && id < labels.Count) return id;
        }
        else
        {
            int exact = IndexOf(labels, value, StringComparison.Ordinal);
            if (exact >= 0) return exact;
            var folded = Enumerable.Range(0, labels.Count).Where(k => string.Equals(labels[k], value, StringComparison.OrdinalIgnoreCase)).ToArray();
            if (folded.Length == 1) return folded[0];
        }
        throw new CliException($"--target {value} is not a class of {model}; its classes are {Classes(head)}");
    }

    /// <summary>"0 negative, 1 positive".</summary>
    public static string Classes(SequenceClassifier head) => string.Join(", ", head.Labels.Select((l, k) => $"{k} {l}"));

    static int IndexOf(IReadOnlyList<string> labels, string value, StringComparison comparison)
    {
        for (int k = 0; k < labels.Count; k++) if (string.Equals(labels[k], value, comparison)) return k;
        return -1;
    }

    /// <summary>The error of hta on a text over its token limit: n, the limit, and the cost in tangents (n·d).</summary>
    public static string HtaTooLong(int n, int limit, EncoderConfig config, string remedy) =>
        string.Create(CultureInfo.InvariantCulture,
            $"hta on {n} tokens is over --hta-max-tokens {limit}: it is exact and pushes n·d = {n}·{config.HiddenSize} = {(long)n * config.HiddenSize:N0} " +
            $"tangents through the encoder, each a pass over all {n} tokens (cost ∝ n²); {remedy}");
}
