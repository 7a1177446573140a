using System.CommandLine;
using System.Globalization;
using MixLens.Analysis.Cost;

namespace MixLens.Cli;

/// <summary>
/// <c>--max-seconds</c>, <c>--max-memory</c> and <c>--no-budget</c>: the budget one request of an expensive method must
/// fit (<see cref="CostBudget"/>), checked against its estimate (<see cref="CostModel"/>) before it starts; a request over
/// it is refused in one line that states the estimate and the cheaper ways to ask.
/// </summary>
internal sealed class BudgetOptions
{
    public Option<double?> MaxSeconds { get; } = new("--max-seconds")
    {
        Description = $"refuse a request estimated to take longer than this many seconds (default {CostBudget.DefaultMaxSeconds:0}); see --no-budget",
    };

    public Option<string?> MaxMemory { get; } = new("--max-memory")
    {
        Description = $"refuse a request estimated to need more memory than this, e.g. 2G or 512M (default: {CostBudget.DefaultMemoryShare:P0} of the memory available at start-up)",
    };

    public Option<bool> NoBudget { get; } = new("--no-budget")
    {
        Description = "run a request whatever its estimated time and memory",
    };

    public IEnumerable<Option> All => [MaxSeconds, MaxMemory, NoBudget];

    /// <summary>The budget the options give.</summary>
    /// <exception cref="CliException">a limit that is not a positive number, or --no-budget with a limit.</exception>
    public CostBudget Resolve(ParseResult parse)
    {
        double? seconds = parse.GetValue(MaxSeconds);
        string? memory = parse.GetValue(MaxMemory);
        if (parse.GetValue(NoBudget))
        {
            if (seconds is not null || memory is not null) throw new CliException("--no-budget lifts every limit; drop --max-seconds and --max-memory");
            return CostBudget.Unlimited;
        }
        if (seconds is double s && (!(s > 0) || double.IsInfinity(s)))
            throw new CliException($"--max-seconds must be a positive number of seconds, not {s.ToString(CultureInfo.InvariantCulture)}");
        var defaults = seconds is null || memory is null ? CostBudget.Default() : null;
        return new CostBudget(seconds ?? defaults!.MaxSeconds, memory is null ? defaults!.MaxBytes : ParseSize(memory));
    }

    /// <summary>A memory size: a number of bytes, or a number with K, M, G or T (binary: 1K = 1024 bytes; KB, KiB, … alike).</summary>
    /// <exception cref="CliException">anything else, or not positive.</exception>
    public static long ParseSize(string text)
    {
        string s = text.Trim();
        int end = s.Length;
        while (end > 0 && char.IsLetter(s[end - 1])) end--;
        string unit = s[end..].ToUpperInvariant();
        long factor = unit switch
        {
            "" or "B" => 1,
            "K" or "KB" or "KIB" => 1L << 10,
            "M" or "MB" or "MIB" => 1L << 20,
            "G" or "GB" or "GIB" => 1L << 30,
            "T" or "TB" or "TIB" => 1L << 40,
            _ => 0,
        };
        if (factor == 0 || !double.TryParse(s[..end], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number)
            || !(number > 0) || number * factor >= long.MaxValue)
            throw new CliException($"--max-memory '{text}' is not a memory size; give e.g. 2G, 512M or a number of bytes");
        return (long)(number * factor);
    }

    /// <summary>Refuses <paramref name="estimate"/> when it exceeds <paramref name="budget"/>, in one line naming the
    /// estimate, the excess, and <paramref name="alternatives"/> (each an option and its own estimate; those that are
    /// not cheaper are left out).</summary>
    /// <exception cref="CliException">the estimate is over the budget.</exception>
    public static void Check(CostEstimate estimate, CostBudget budget, IEnumerable<(string Option, CostEstimate Estimate)> alternatives)
    {
        string? excess = budget.Excess(estimate);
        if (excess is null) return;
        var cheaper = alternatives
            .Where(a => a.Estimate.Operations < estimate.Operations || a.Estimate.PeakBytes < estimate.PeakBytes)
            .Select(a => $"{a.Option} ({a.Estimate.Summary}{(budget.Allows(a.Estimate) ? "" : ", still over")})")
            .ToArray();
        string options = cheaper.Length == 0 ? "" : $"; cheaper: {string.Join(", ", cheaper)}";
        throw new CliException($"{estimate.What} is estimated at {estimate.Summary}, {excess}{options}; " +
            "or raise --max-seconds / --max-memory, or pass --no-budget to run it anyway");
    }
}
