using System.Text.Json;
using MixLens.Engine.Conversion;
using MixLens.Engine.SafeTensors;

namespace MixLens.Tests.Convert;

/// <summary>
/// A sharded checkpoint built from the fixtures (shard 1: the zip BERT checkpoint, shard 2: the shared-storage one, plus
/// <c>pytorch_model.bin.index.json</c>) converts to safetensors shards equal to the expected files, with a
/// <c>model.safetensors.index.json</c> that maps every tensor; merged into one file, every tensor is bit-identical.
/// </summary>
public class ShardedConversionTests
{
    const string Shard1 = "pytorch_model-00001-of-00002.bin", Shard2 = "pytorch_model-00002-of-00002.bin";

    static void BuildShardedCheckpoint(string folder, bool legacyFirstShard = false)
    {
        File.Copy(ConvertTestFiles.Fixture(legacyFirstShard ? "pytorch_model.legacy.bin" : "pytorch_model.bin"), Path.Combine(folder, Shard1));
        File.Copy(ConvertTestFiles.Fixture("shared_storage.bin"), Path.Combine(folder, Shard2));
        using var expected = SafeTensorsFile.Open(ConvertTestFiles.Fixture("expected.safetensors"));
        var map = expected.Tensors.ToDictionary(t => t.Name, _ => Shard1);
        foreach (var name in new[] { "a.weight", "b.weight", "c.weight" }) map[name] = Shard2;
        var index = new { metadata = new { total_size = 619_496 + 240 }, weight_map = map };
        File.WriteAllText(Path.Combine(folder, ShardIndex.PyTorchIndexName), JsonSerializer.Serialize(index));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ShardedCheckpoint_ConvertsToShardsAndIndex(bool legacyFirstShard)
    {
        using var input = ConvertTestFiles.Temp();
        using var output = ConvertTestFiles.Temp();
        BuildShardedCheckpoint(input.Path, legacyFirstShard);

        var result = CheckpointConverter.Convert(input.Path, output.Path);   // the folder: finds the index

        Assert.Equal(legacyFirstShard ? ["legacy", "zip"] : ["zip"], result.Formats);
        Assert.Equal([output.File("model-00001-of-00002.safetensors"), output.File("model-00002-of-00002.safetensors")], result.Files.Select(f => f.Path));
        Assert.Equal(File.ReadAllBytes(ConvertTestFiles.Fixture("expected.safetensors")), File.ReadAllBytes(result.Files[0].Path));
        Assert.Equal(File.ReadAllBytes(ConvertTestFiles.Fixture("expected.shared_storage.safetensors")), File.ReadAllBytes(result.Files[1].Path));

        Assert.Equal(output.File(ShardIndex.SafeTensorsIndexName), result.IndexPath);
        using var doc = JsonDocument.Parse(File.ReadAllText(result.IndexPath!));
        Assert.Equal(619_496 + 240, doc.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
        var weightMap = doc.RootElement.GetProperty("weight_map").EnumerateObject().ToList();
        Assert.Equal(29, weightMap.Count);
        Assert.Equal(weightMap.Select(p => p.Name).Order(StringComparer.Ordinal), weightMap.Select(p => p.Name));   // sorted keys
        Assert.Equal("model-00002-of-00002.safetensors", weightMap.Single(p => p.Name == "c.weight").Value.GetString());
        Assert.Equal("model-00001-of-00002.safetensors", weightMap.Single(p => p.Name == "bert.embeddings.word_embeddings.weight").Value.GetString());
    }

    [Fact]
    public void ShardedCheckpoint_MergedIntoOneFile_KeepsEveryTensorBitExact()
    {
        using var input = ConvertTestFiles.Temp();
        using var output = ConvertTestFiles.Temp();
        BuildShardedCheckpoint(input.Path);
        string merged = output.File("model.safetensors");

        var result = CheckpointConverter.Convert(Path.Combine(input.Path, ShardIndex.PyTorchIndexName), merged);

        Assert.Null(result.IndexPath);
        Assert.Equal(29, Assert.Single(result.Files).TensorCount);
        using var file = SafeTensorsFile.Open(merged);
        foreach (var expectedFile in new[] { "expected.safetensors", "expected.shared_storage.safetensors" })
        {
            using var expected = SafeTensorsFile.Open(ConvertTestFiles.Fixture(expectedFile));
            foreach (var info in expected.Tensors)
            {
                Assert.Equal(info.Shape, file.GetInfo(info.Name).Shape);
                Assert.True(expected.GetBytes(info.Name).Span.SequenceEqual(file.GetBytes(info.Name).Span), info.Name);
            }
        }
    }

    [Fact]
    public void IndexNamingATensorItsShardLacks_IsReported()
    {
        using var input = ConvertTestFiles.Temp();
        File.Copy(ConvertTestFiles.Fixture("shared_storage.bin"), input.File(Shard1));
        File.WriteAllText(input.File(ShardIndex.PyTorchIndexName),
            "{\"weight_map\": {\"a.weight\": \"" + Shard1 + "\", \"z.weight\": \"" + Shard1 + "\"}}");
        var e = Assert.Throws<CheckpointException>(() => CheckpointConverter.Convert(input.Path));
        Assert.Equal($"pytorch_model.bin.index.json: tensor 'z.weight' is listed in shard '{Shard1}' but that file does not hold it", e.Message);
        Assert.False(File.Exists(input.File("model-00001-of-00002.safetensors")));
    }

    [Fact]
    public void IndexWithAPathForAShard_IsRefused()
    {
        using var input = ConvertTestFiles.Temp();
        File.WriteAllText(input.File(ShardIndex.PyTorchIndexName), """{"weight_map": {"a.weight": "../elsewhere.bin"}}""");
        var e = Assert.Throws<CheckpointException>(() => CheckpointConverter.Convert(input.File(ShardIndex.PyTorchIndexName)));
        Assert.Contains("not a file beside the index", e.Message);
    }

    [Theory]
    [InlineData("pytorch_model-00001-of-00003.bin", "model-00001-of-00003.safetensors")]
    [InlineData("pytorch_model.bin", "model.safetensors")]
    [InlineData("weights-part1.bin", "weights-part1.safetensors")]
    public void ShardNames_FollowTheHuggingFaceConvention(string pytorch, string safetensors) =>
        Assert.Equal(safetensors, ShardIndex.SafeTensorsShardName(pytorch));
}
