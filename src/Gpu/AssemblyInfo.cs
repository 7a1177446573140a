using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("MixLens.Tests")]
[assembly: InternalsVisibleTo("MixLens.Bench")]
