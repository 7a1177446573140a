using MixLens.Engine.SafeTensors;

namespace MixLens.Engine.Conversion;

/// <summary>
/// Converts PyTorch checkpoints (<c>pytorch_model.bin</c>, zip or legacy format, single or sharded) to safetensors,
/// never executing anything from the pickle (see <see cref="TorchGlobals"/>). Each state-dict entry becomes one
/// contiguous tensor (views of a shared storage are written separately under each name, since safetensors cannot
/// alias); tensors are written in the reference writer's order (<see cref="SafeTensorsOrder"/>) with no metadata, so
/// a conversion reproduces <c>safetensors.torch.save_file(state_dict)</c> byte for byte. Files are written atomically.
/// </summary>
public static class CheckpointConverter
{
    /// <summary>
    /// Converts <paramref name="input"/> — a checkpoint file, a <c>pytorch_model.bin.index.json</c>, or a folder holding
    /// either — to safetensors.
    /// </summary>
    /// <param name="output">
    /// Single file: the output file, or a folder to write it in; default beside the input, named
    /// <c>model.safetensors</c> for <c>pytorch_model.bin</c> and <c>STEM.safetensors</c> otherwise.
    /// Sharded: a folder for the shards and <c>model.safetensors.index.json</c> (default: the index's folder), or a
    /// <c>*.safetensors</c> file to merge every shard into one file.
    /// </param>
    /// <exception cref="FileNotFoundException">the input (or a shard) does not exist.</exception>
    /// <exception cref="CheckpointException">malformed input, or an output that would overwrite the input.</exception>
    /// <exception cref="UnsafeCheckpointException">a pickle names a global that is not allowed; nothing is written.</exception>
    public static ConversionResult Convert(string input, string? output = null, OutputDType dtype = OutputDType.Keep)
    {
        ArgumentException.ThrowIfNullOrEmpty(input);
        if (Directory.Exists(input))
        {
            string index = Path.Combine(input, ShardIndex.PyTorchIndexName);
            string single = Path.Combine(input, "pytorch_model.bin");
            if (File.Exists(index)) return ConvertSharded(index, output, dtype);
            if (File.Exists(single)) return ConvertFile(single, output, dtype);
            throw new FileNotFoundException($"folder '{input}' holds neither pytorch_model.bin nor {ShardIndex.PyTorchIndexName}");
        }
        if (!File.Exists(input)) throw new FileNotFoundException($"checkpoint '{input}' not found", input);
        return input.EndsWith(".index.json", StringComparison.Ordinal) ? ConvertSharded(input, output, dtype) : ConvertFile(input, output, dtype);
    }

    /// <summary>Reads every tensor of one checkpoint file, materialised and cast, in the pickle's order.</summary>
    /// <exception cref="CheckpointException">see <see cref="TorchCheckpoint.Open"/> and <see cref="TensorMaterializer"/>.</exception>
    public static List<TensorToWrite> ReadTensors(string checkpointPath, OutputDType dtype, out string format)
    {
        using var checkpoint = TorchCheckpoint.Open(checkpointPath);
        format = checkpoint.Format;
        var tensors = new List<TensorToWrite>(checkpoint.Tensors.Count);
        foreach (var (name, tensor) in checkpoint.Tensors)
        {
            var storage = checkpoint.StorageBytes(tensor.Storage.Key);
            byte[] bytes = TensorMaterializer.Materialize(checkpoint.FileName, name, tensor, storage.Span, checkpoint.BigEndian);
            tensors.Add(TensorCast.ToWrite(name, tensor.Storage.DType, tensor.Shape, bytes, dtype));
        }
        return tensors;
    }

    static ConversionResult ConvertFile(string input, string? output, OutputDType dtype)
    {
        string target = OutputFile(input, output);
        var tensors = SafeTensorsOrder.Sort(ReadTensors(input, dtype, out string format));
        SafeTensorsWriter.Write(target, tensors);
        var file = new ConvertedFile(target, [input], tensors.Count, tensors.Sum(t => (long)t.Data.Length));
        return new ConversionResult([file], null, [format], CountDTypes(tensors));
    }

    static ConversionResult ConvertSharded(string indexPath, string? output, OutputDType dtype)
    {
        var index = ShardIndex.Read(indexPath);
        string folder = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        string indexName = Path.GetFileName(indexPath);
        var expected = index.WeightMap.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        var formats = new SortedSet<string>(StringComparer.Ordinal);
        var shards = new List<(string Source, List<TensorToWrite> Tensors)>();
        foreach (string shard in index.Shards)
        {
            string path = Path.Combine(folder, shard);
            if (!File.Exists(path)) throw new FileNotFoundException($"{indexName}: shard '{shard}' not found in '{folder}'", path);
            var tensors = ReadTensors(path, dtype, out string format);
            formats.Add(format);
            foreach (var t in tensors)
            {
                if (seen.TryGetValue(t.Name, out var other))
                    throw new CheckpointException($"{indexName}: tensor '{t.Name}' appears in both '{other}' and '{shard}'");
                seen[t.Name] = shard;
            }
            shards.Add((path, tensors));
        }
        foreach (var (name, shard) in expected)
            if (!seen.ContainsKey(name))
                throw new CheckpointException($"{indexName}: tensor '{name}' is listed in shard '{shard}' but that file does not hold it");

        var all = shards.SelectMany(s => s.Tensors).ToList();
        var counts = CountDTypes(all);
        if (output != null && output.EndsWith(".safetensors", StringComparison.Ordinal) && !Directory.Exists(output))
        {
            CheckNotInput(output, shards.Select(s => s.Source));
            var merged = SafeTensorsOrder.Sort(all);
            SafeTensorsWriter.Write(output, merged);
            return new ConversionResult([new ConvertedFile(output, shards.Select(s => s.Source).ToList(), merged.Count, Bytes(merged))], null, formats.ToList(), counts);
        }

        string outFolder = output ?? folder;
        Directory.CreateDirectory(outFolder);
        var files = new List<ConvertedFile>();
        var weightMap = new List<KeyValuePair<string, string>>();
        foreach (var (source, tensors) in shards)
        {
            string name = ShardIndex.SafeTensorsShardName(Path.GetFileName(source));
            string path = Path.Combine(outFolder, name);
            CheckNotInput(path, [source]);
            var sorted = SafeTensorsOrder.Sort(tensors);
            SafeTensorsWriter.Write(path, sorted);
            files.Add(new ConvertedFile(path, [source], sorted.Count, Bytes(sorted)));
            weightMap.AddRange(sorted.Select(t => new KeyValuePair<string, string>(t.Name, name)));
        }
        string indexOut = Path.Combine(outFolder, ShardIndex.SafeTensorsIndexName);
        ShardIndex.Write(indexOut, files.Sum(f => f.DataBytes), weightMap);
        return new ConversionResult(files, indexOut, formats.ToList(), counts);
    }

    /// <summary>The output file for a single checkpoint (see <see cref="Convert"/>).</summary>
    static string OutputFile(string input, string? output)
    {
        string name = Path.GetFileName(input);
        string defaultName = name == "pytorch_model.bin" ? "model.safetensors" : Path.GetFileNameWithoutExtension(name) + ".safetensors";
        string target = output == null
            ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(input))!, defaultName)
            : Directory.Exists(output) ? Path.Combine(output, defaultName) : output;
        string? parent = Path.GetDirectoryName(Path.GetFullPath(target));
        if (parent != null && !Directory.Exists(parent)) throw new DirectoryNotFoundException($"output folder '{parent}' does not exist");
        CheckNotInput(target, [input]);
        return target;
    }

    static void CheckNotInput(string output, IEnumerable<string> inputs)
    {
        string full = Path.GetFullPath(output);
        foreach (var input in inputs)
            if (string.Equals(full, Path.GetFullPath(input), StringComparison.Ordinal))
                throw new CheckpointException($"the output '{output}' is the input checkpoint; choose another --out");
    }

    static long Bytes(IEnumerable<TensorToWrite> tensors) => tensors.Sum(t => (long)t.Data.Length);

    static IReadOnlyDictionary<string, int> CountDTypes(IEnumerable<TensorToWrite> tensors) =>
        tensors.GroupBy(t => t.DType.ToHeaderName()).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());
}
