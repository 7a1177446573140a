using System.Runtime.CompilerServices;

// Tests flip the vector path per thread (VectorPaths.LimitForCurrentThread) and call the micro-kernels directly.
[assembly: InternalsVisibleTo("MixLens.Tests")]
[assembly: InternalsVisibleTo("MixLens.Bench")]
