namespace MixLens.Fuzz;

/// <summary>
/// The rule every fuzz target checks (issue 17): a malformed input ends in the parser's documented exception type,
/// with a message naming the file; anything else escaping (IndexOutOfRange, NullReference, Overflow,
/// ArgumentOutOfRange, InvalidOperation, OutOfMemory, …) is a bug, and so is a parse that allocates more than
/// <see cref="AllocationBudget"/> allows for its input (an allocation sized by an untrusted number before it was
/// checked against the file size).
/// </summary>
public static class FuzzRule
{
    /// <summary>Set MIXLENS_FUZZ_VERBOSE=1 to print each documented refusal (triage with <c>mixlens-fuzz replay</c>).</summary>
    static readonly bool Verbose = Environment.GetEnvironmentVariable("MIXLENS_FUZZ_VERBOSE") == "1";

    /// <summary>Bytes a parse may allocate: a fixed 64 MiB for the tables a well-formed small file builds, plus 512
    /// bytes per input byte (strings, dictionaries and tries are a small multiple of the text they come from).</summary>
    public static long AllocationBudget(long inputBytes) => (64L << 20) + 512L * inputBytes;

    /// <summary>
    /// Runs <paramref name="parse"/>. An exception of one of the <paramref name="documented"/> types is the expected
    /// outcome of a malformed input, provided its message contains one of <paramref name="names"/> (the file or folder
    /// name); any other exception propagates unchanged.
    /// </summary>
    /// <returns>true when <paramref name="parse"/> completed, false when it threw a documented exception.</returns>
    /// <exception cref="FuzzRuleViolation">a documented exception whose message names none of <paramref name="names"/>.</exception>
    public static bool Expect(Action parse, IReadOnlyList<string> names, params Type[] documented)
    {
        try
        {
            parse();
            return true;
        }
        catch (Exception e) when (documented.Any(t => t.IsInstanceOfType(e)))
        {
            if (!names.Any(n => e.Message.Contains(n, StringComparison.Ordinal)))
                throw new FuzzRuleViolation(
                    $"{e.GetType().Name} does not name the file ({string.Join(" or ", names)}): {e.Message}", e);
            if (Verbose) Console.Error.WriteLine($"  refused ({e.GetType().Name}): {e.Message}");
            return false;
        }
    }

    /// <summary>Runs <paramref name="body"/> and checks how much it allocated (on this thread: the parsers are
    /// single-threaded, and other threads of a test run must not count) against
    /// <see cref="AllocationBudget"/> of <paramref name="inputBytes"/>.</summary>
    /// <exception cref="FuzzRuleViolation">the body allocated more than the budget.</exception>
    public static void WithinAllocationBudget(long inputBytes, Action body)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        body();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long budget = AllocationBudget(inputBytes);
        if (allocated > budget)
            throw new FuzzRuleViolation(
                $"allocated {allocated:N0} bytes for a {inputBytes:N0}-byte input (budget {budget:N0}): an allocation sized by an unchecked number?");
    }
}
