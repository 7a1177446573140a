using System.Text.Encodings.Web;
using System.Text.Json;

namespace MixLens.Engine.Conversion;

/// <summary>
/// The index of a sharded HuggingFace checkpoint: <c>pytorch_model.bin.index.json</c> (read) and
/// <c>model.safetensors.index.json</c> (written), both <c>{"metadata": {"total_size": BYTES}, "weight_map": {tensor
/// name: shard file name}}</c> with shard files beside the index.
/// </summary>
/// <remarks>Source: HuggingFace transformers, <c>modeling_utils.py</c> (<c>save_pretrained</c> writes the index with
/// sorted keys and 2-space indentation; shard names <c>pytorch_model-00001-of-00002.bin</c> become
/// <c>model-00001-of-00002.safetensors</c>).</remarks>
public sealed class ShardIndex
{
    /// <summary>The index file name of a sharded PyTorch checkpoint.</summary>
    public const string PyTorchIndexName = "pytorch_model.bin.index.json";

    /// <summary>The index file name of a sharded safetensors checkpoint.</summary>
    public const string SafeTensorsIndexName = "model.safetensors.index.json";

    ShardIndex(IReadOnlyList<KeyValuePair<string, string>> weightMap) => WeightMap = weightMap;

    /// <summary>Tensor name → shard file name (relative to the index's folder), in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> WeightMap { get; }

    /// <summary>The distinct shard file names, in order of first appearance.</summary>
    public IReadOnlyList<string> Shards => WeightMap.Select(e => e.Value).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>Reads an index file.</summary>
    /// <exception cref="CheckpointException">not JSON, no <c>weight_map</c> object, a non-string entry, or a shard name that
    /// is a path (shards must lie beside the index).</exception>
    public static ShardIndex Read(string path)
    {
        string name = Path.GetFileName(path);
        JsonDocument doc;
        try { doc = StrictJson.ParseFile(path); }
        catch (JsonException e) { throw new CheckpointException($"{name}: not valid JSON ({e.Message})", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new CheckpointException($"{name}: no \"weight_map\" object (tensor name → shard file)");
            var entries = new List<KeyValuePair<string, string>>();
            foreach (var property in map.EnumerateObject())
            {
                if (property.Value.ValueKind != JsonValueKind.String)
                    throw new CheckpointException($"{name}: weight_map entry '{property.Name}' is not a file name string");
                string shard = property.Value.GetString()!;
                if (shard.Length == 0 || shard.IndexOfAny(['/', '\\']) >= 0 || shard is "." or "..")
                    throw new CheckpointException($"{name}: weight_map entry '{property.Name}' names '{shard}', not a file beside the index");
                entries.Add(new(property.Name, shard));
            }
            if (entries.Count == 0) throw new CheckpointException($"{name}: the weight_map is empty");
            return new ShardIndex(entries);
        }
    }

    /// <summary>The safetensors name of a PyTorch shard: <c>pytorch_model-00001-of-00002.bin</c> → <c>model-00001-of-00002.safetensors</c>.</summary>
    public static string SafeTensorsShardName(string pytorchShard)
    {
        string stem = pytorchShard.EndsWith(".bin", StringComparison.Ordinal) ? pytorchShard[..^4] : Path.GetFileNameWithoutExtension(pytorchShard);
        if (stem.StartsWith("pytorch_model", StringComparison.Ordinal)) stem = "model" + stem["pytorch_model".Length..];
        return stem + ".safetensors";
    }

    /// <summary>Writes a <c>model.safetensors.index.json</c>: total data bytes and the weight map, keys sorted, 2-space indents.</summary>
    public static void Write(string path, long totalSize, IEnumerable<KeyValuePair<string, string>> weightMap)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteStartObject("metadata");
            json.WriteNumber("total_size", totalSize);
            json.WriteEndObject();
            json.WriteStartObject("weight_map");
            foreach (var (tensor, file) in weightMap.OrderBy(e => e.Key, StringComparer.Ordinal)) json.WriteString(tensor, file);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        string temp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(temp, buffer.ToArray());
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }
}
