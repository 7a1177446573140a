using MixLens.Kernels;

namespace MixLens.Analysis;

/// <summary>
/// The thread limit of the analyses' parallel loops: the kernels' <see cref="Parallelism.MaxThreads"/>, so one setting
/// bounds both the encoder and the context-mixing methods (e.g. 1 for a single-threaded run).
/// </summary>
internal static class AnalysisThreads
{
    /// <summary>Options for <c>Parallel.For</c> with <c>MaxDegreeOfParallelism</c> = <see cref="Parallelism.MaxThreads"/>.</summary>
    public static ParallelOptions Options => new() { MaxDegreeOfParallelism = Parallelism.MaxThreads };
}
