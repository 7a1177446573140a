using System.Runtime.InteropServices;
using System.Text.Json;

namespace MixLens.Bench.Peers;

/// <summary>
/// Builds the BERT-base-shaped peer (12 × 768, FFN 3072, vocab 30522) of <c>../shared/peers/bert-base-random/</c> in a
/// scratch folder, as ../shared/README.md describes: <c>model.safetensors</c> = the exact header bytes of
/// <c>model.safetensors.header</c> followed by the 435,566,592-byte data region, each F32 tensor filled at its
/// <c>data_offsets</c> with seeded uniform values in [−0.05, 0.05] (LayerNorm weights 1 + that, so near 1); beside it
/// <c>config.json</c> and <c>model.onnx</c> (whose external data points into model.safetensors, so ONNX Runtime reads
/// the same bytes as MixLens) and the bert-base-uncased tokenizer files of all-MiniLM-L6-v2 (same 30522-entry vocab).
/// Written once; reused while the file has the expected size and the seed stamp matches.
/// <para><b>Aliases</b>: model.onnx reads several weights from one stored tensor (<see cref="OnnxAliases"/>: all biases
/// of width 768 share one, all LayerNorm weights share one, the FFN biases share one). Each tensor's values come from its
/// own seeded stream (seed, FNV-1a of its name), and an aliased tensor is written with its source's stream, so the bytes
/// MixLens reads for it are the bytes ORT uses; without this the two engines run different models.</para>
/// </summary>
public static class BertBasePeer
{
    const int Seed = 20261206;
    /// <summary>Bumped whenever the recipe changes, so an older file is rewritten.</summary>
    const string Recipe = "v2-aliases";
    const float Scale = 0.05f;
    static readonly string[] TokenizerFiles = ["tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"];

    /// <summary>The peer's folder under <paramref name="scratch"/>, built if missing.</summary>
    public static string Ensure(string sharedRoot, string scratch)
    {
        string recipe = Path.Combine(sharedRoot, "peers", "bert-base-random");
        string tokenizerSource = Path.Combine(sharedRoot, "models", "all-MiniLM-L6-v2");
        string dir = Path.Combine(scratch, "bert-base-random");
        Directory.CreateDirectory(dir);
        foreach (var file in new[] { "config.json", "model.onnx" })
            CopyWritable(Path.Combine(recipe, file), Path.Combine(dir, file));
        foreach (var file in TokenizerFiles)
            CopyWritable(Path.Combine(tokenizerSource, file), Path.Combine(dir, file));
        CheckVocabulary(dir);

        byte[] header = File.ReadAllBytes(Path.Combine(recipe, "model.safetensors.header"));
        var tensors = ParseHeader(header, out long dataLength);
        var aliases = OnnxAliases.Read(Path.Combine(dir, "model.onnx"));
        foreach (var (alias, source) in aliases)
            if (!tensors.Any(t => t.Name == alias) || !tensors.Any(t => t.Name == source))
                throw new InvalidDataException($"model.onnx aliases {alias} to {source}, which model.safetensors.header does not both list");
        string weights = Path.Combine(dir, "model.safetensors"), stamp = Path.Combine(dir, "model.safetensors.seed");
        if (File.Exists(weights) && new FileInfo(weights).Length == header.Length + dataLength
            && File.Exists(stamp) && File.ReadAllText(stamp).Trim() == $"{Seed} {Scale} {Recipe}")
            return dir;

        Console.Error.WriteLine($"// writing {weights} ({(header.Length + dataLength) / 1e6:F0} MB, seed {Seed}, {aliases.Count} aliased tensors)");
        using (var output = new FileStream(weights, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            output.Write(header);
            long written = 0;
            foreach (var (name, begin, end) in tensors.OrderBy(t => t.Begin))
            {
                if (begin != written) throw new InvalidDataException($"{name}: data_offsets start at {begin}, expected {written}");
                string source = aliases.GetValueOrDefault(name, name);
                var rng = new Random(Seed ^ Fnv1a(source));
                WriteUniform(output, rng, (end - begin) / 4, source.EndsWith("LayerNorm.weight") ? 1f : 0f);
                written = end;
            }
            if (written != dataLength) throw new InvalidDataException($"data region is {written} bytes, expected {dataLength}");
        }
        File.WriteAllText(stamp, $"{Seed} {Scale} {Recipe}\n");
        return dir;
    }

    static void CopyWritable(string source, string destination)
    {
        if (File.Exists(destination)) File.Delete(destination);
        File.Copy(source, destination);
        File.SetAttributes(destination, FileAttributes.Normal); // the shared files are read-only
    }

    /// <summary>32-bit FNV-1a of a tensor name (stable across runs, unlike string.GetHashCode).</summary>
    static int Fnv1a(string name)
    {
        uint hash = 2166136261;
        foreach (char c in name) hash = (hash ^ c) * 16777619;
        return (int)hash;
    }

    /// <summary>config.json's vocab_size must equal the copied vocab.txt's line count.</summary>
    static void CheckVocabulary(string dir)
    {
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "config.json")));
        int vocabSize = config.RootElement.GetProperty("vocab_size").GetInt32();
        int lines = File.ReadLines(Path.Combine(dir, "vocab.txt")).Count();
        if (lines != vocabSize) throw new InvalidDataException($"vocab.txt has {lines} entries, config.json vocab_size is {vocabSize}");
    }

    /// <summary>(name, begin, end) of every tensor (all F32 here), and the data region's length.</summary>
    static List<(string Name, long Begin, long End)> ParseHeader(byte[] header, out long dataLength)
    {
        long jsonLength = BitConverter.ToInt64(header, 0);
        if (8 + jsonLength != header.Length) throw new InvalidDataException($"header file is {header.Length} bytes, its length field says {8 + jsonLength}");
        using var json = JsonDocument.Parse(header.AsMemory(8, (int)jsonLength));
        var tensors = new List<(string, long, long)>();
        foreach (var entry in json.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            string dtype = entry.Value.GetProperty("dtype").GetString()!;
            if (dtype != "F32") throw new InvalidDataException($"{entry.Name} is {dtype}; only F32 is expected in the peer");
            var offsets = entry.Value.GetProperty("data_offsets");
            tensors.Add((entry.Name, offsets[0].GetInt64(), offsets[1].GetInt64()));
        }
        dataLength = tensors.Max(t => t.Item3);
        return tensors;
    }

    static void WriteUniform(Stream output, Random rng, long count, float center)
    {
        var chunk = new float[Math.Min(count, 1 << 18)];
        for (long done = 0; done < count; done += chunk.Length)
        {
            int length = (int)Math.Min(chunk.Length, count - done);
            for (int i = 0; i < length; i++) chunk[i] = center + Scale * (2 * rng.NextSingle() - 1);
            output.Write(MemoryMarshal.AsBytes(chunk.AsSpan(0, length)));
        }
    }
}
