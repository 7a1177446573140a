using MixLens.Engine;
using MixLens.Engine.Conversion;
using MixLens.Engine.Model;
using MixLens.Engine.SafeTensors;
using MixLens.Tests.Cli;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Model;

/// <summary>A sharded safetensors checkpoint (<c>model.safetensors.index.json</c> + shards, as transformers'
/// <c>save_pretrained</c> writes one) loads as the same model as the single file.</summary>
public class ShardedCheckpointTests
{
    const string Text = "The quick brown fox jumps over the lazy dog.";
    static readonly string[] OtherFiles = ["config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"];

    /// <summary>Writes <paramref name="model"/>'s tensors into two shards (alternating, in header order) and the index
    /// beside <paramref name="otherFiles"/> copied into <paramref name="folder"/>.</summary>
    public static void WriteSharded(string model, string folder, params string[] otherFiles)
    {
        Directory.CreateDirectory(folder);
        foreach (var f in otherFiles) File.Copy(Path.Combine(SharedData.Models(model), f), Path.Combine(folder, f));
        using var single = SafeTensorsFile.Open(Path.Combine(SharedData.Models(model), "model.safetensors"));
        string[] shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
        var map = new List<KeyValuePair<string, string>>();
        for (int s = 0; s < 2; s++)
        {
            var tensors = single.Tensors.Where((_, i) => i % 2 == s).ToArray();
            SafeTensorsWriter.Write(Path.Combine(folder, shards[s]),
                tensors.Select(t => new TensorToWrite(t.Name, t.DType, t.Shape, single.GetBytes(t.Name).ToArray())));
            map.AddRange(tensors.Select(t => new KeyValuePair<string, string>(t.Name, shards[s])));
        }
        ShardIndex.Write(Path.Combine(folder, ShardIndex.SafeTensorsIndexName), single.Tensors.Sum(t => t.ByteLength), map);
    }

    [Fact]
    public void Load_ShardedCheckpoint_SameEmbeddingsAndHeadAsTheSingleFile()
    {
        using var temp = new TempFolder();
        string folder = temp.File("sharded");
        WriteSharded("bert-mlm-random", folder, OtherFiles);

        using var sharded = EncoderModel.Load(folder);
        using var single = EncoderModel.Load(SharedData.Models("bert-mlm-random"));

        Assert.Equal(single.Embed([single.Tokenize(Text)])[0], sharded.Embed([sharded.Tokenize(Text)])[0]);
        Assert.NotNull(sharded.MaskedLm);
        var encoding = sharded.Tokenize("the [MASK] sat on the mat.");
        Assert.Equal(single.FillMask(encoding)[0].Candidates.Select(c => c.Id), sharded.FillMask(encoding)[0].Candidates.Select(c => c.Id));
    }

    [Fact]
    public void Load_ShardMissing_ErrorNamesTheShard()
    {
        using var temp = new TempFolder();
        string folder = temp.File("sharded");
        WriteSharded("bert-mlm-random", folder, OtherFiles);
        File.Delete(Path.Combine(folder, "model-00002-of-00002.safetensors"));
        var e = Assert.Throws<ModelFormatException>(() => EncoderModel.Load(folder));
        Assert.Equal($"{Path.Combine(folder, ShardIndex.SafeTensorsIndexName)}: shard model-00002-of-00002.safetensors not found", e.Message);
    }

    [Fact]
    public void Load_TensorInTwoShards_Refused()
    {
        using var temp = new TempFolder();
        string folder = temp.File("sharded");
        WriteSharded("bert-mlm-random", folder, OtherFiles);
        File.Copy(Path.Combine(folder, "model-00001-of-00002.safetensors"), Path.Combine(folder, "model-00002-of-00002.safetensors"), overwrite: true);
        var e = Assert.Throws<ModelFormatException>(() => EncoderModel.Load(folder));
        Assert.Contains("is in both model-00001-of-00002.safetensors and model-00002-of-00002.safetensors", e.Message);
    }
}
