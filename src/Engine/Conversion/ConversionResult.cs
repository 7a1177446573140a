namespace MixLens.Engine.Conversion;

/// <summary>One safetensors file written by a conversion.</summary>
/// <param name="Path">the file written.</param>
/// <param name="Sources">the checkpoint file(s) its tensors came from.</param>
/// <param name="TensorCount">number of tensors in it.</param>
/// <param name="DataBytes">bytes of tensor data (the file is this plus the header).</param>
public sealed record ConvertedFile(string Path, IReadOnlyList<string> Sources, int TensorCount, long DataBytes);

/// <summary>What a conversion wrote.</summary>
/// <param name="Files">the safetensors files, in shard order.</param>
/// <param name="IndexPath">the <c>model.safetensors.index.json</c> written for a sharded output, else null.</param>
/// <param name="Formats">the checkpoint formats read ("zip", "legacy").</param>
/// <param name="DTypeCounts">tensors per output dtype, e.g. F32 → 26.</param>
public sealed record ConversionResult(
    IReadOnlyList<ConvertedFile> Files, string? IndexPath, IReadOnlyList<string> Formats, IReadOnlyDictionary<string, int> DTypeCounts)
{
    public int TensorCount => Files.Sum(f => f.TensorCount);
    public long DataBytes => Files.Sum(f => f.DataBytes);
}

/// <summary>Human-readable summary lines of a <see cref="ConversionResult"/> (what the convert commands print).</summary>
public static class ConversionReport
{
    /// <summary>One line per file written, then the index (if any) and a total.</summary>
    public static IEnumerable<string> Lines(ConversionResult result)
    {
        foreach (var file in result.Files)
            yield return $"wrote {file.Path}: {file.TensorCount} tensors, {file.DataBytes:N0} bytes of data (from {string.Join(", ", file.Sources.Select(Path.GetFileName))})";
        if (result.IndexPath != null) yield return $"wrote {result.IndexPath}";
        string dtypes = string.Join(", ", result.DTypeCounts.Select(e => $"{e.Value} {e.Key}"));
        yield return $"converted {result.TensorCount} tensors ({dtypes}) from the {string.Join(" and ", result.Formats)} format; nothing in the pickle was executed";
    }
}
