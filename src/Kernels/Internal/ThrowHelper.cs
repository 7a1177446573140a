using System.Diagnostics.CodeAnalysis;

namespace MixLens.Kernels.Internal;

/// <summary>One throw method per failure, kept out of line so the validated entry points stay small.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowNegativeDimension(string op, string name, int value)
        => throw new ArgumentOutOfRangeException(name, value, $"{op}: dimension {name} must be non-negative, got {value}.");

    [DoesNotReturn]
    public static void ThrowLeadingDimension(string op, string name, int ld, string rowName, int rowLength)
        => throw new ArgumentOutOfRangeException(name, ld,
            $"{op}: leading dimension {name} = {ld} is smaller than the row length {rowName} = {rowLength}.");

    [DoesNotReturn]
    public static void ThrowTooShort(string op, string name, int length, long required, string shape)
        => throw new ArgumentException(
            $"{op}: span {name} has {length} elements but {shape} needs at least {required}.", name);

    [DoesNotReturn]
    public static void ThrowLengthMismatch(string op, string name, int length, long expected, string what)
        => throw new ArgumentException($"{op}: span {name} has {length} elements; expected {expected} ({what}).", name);

    [DoesNotReturn]
    public static void ThrowOverlap(string op, string output, string input)
        => throw new ArgumentException($"{op}: output {output} overlaps input {input}; they must be separate memory.", output);

    [DoesNotReturn]
    public static void ThrowPartialOverlap(string op, string output, string input)
        => throw new ArgumentException(
            $"{op}: output {output} partially overlaps input {input}; pass the same memory (in place) or separate memory.", output);
}
