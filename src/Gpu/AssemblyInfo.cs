using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("MixLens.Tests")]
