using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MixLens.Engine.SafeTensors;
using MixLens.Tests.Infrastructure;
using static MixLens.Tests.SafeTensors.SafeTensorsTestFiles;

namespace MixLens.Tests.SafeTensors;

/// <summary>Reading the real checkpoints and fixtures in the shared data folder, checked against an independent decode.</summary>
public class SafeTensorsReaderTests
{
    static string MiniLm => Path.Combine(SharedData.Models("all-MiniLM-L6-v2"), "model.safetensors");
    static string Sst2F16 => Path.Combine(SharedData.Models("minilm-l6-sst2"), "model.safetensors");
    static string RobertaBf16 => Path.Combine(SharedData.Models("roberta-random"), "model.safetensors");

    public static TheoryData<string> SharedModels => new()
    {
        "all-MiniLM-L6-v2", "bert-mlm-random", "bert-tokcls-random", "distilbert-random",
        "electra-random", "minilm-l6-sst2", "random-bert-tiniest", "roberta-random",
    };

    [Theory]
    [MemberData(nameof(SharedModels))]
    public void Open_SharedModel_ValidatesAndEveryTensorReads(string model)
    {
        string path = Path.Combine(SharedData.Models(model), "model.safetensors");
        using var file = SafeTensorsFile.Open(path);
        Assert.NotEmpty(file.Tensors);
        Assert.Equal("pt", file.Metadata["format"]);
        foreach (var t in file.Tensors)
        {
            if (t.DType.IsFloatingPoint()) Assert.Equal(t.ElementCount, file.GetFloat32(t.Name).Length);
            else Assert.Equal(t.ElementCount, file.GetInt64(t.Name).Length);
        }
    }

    [Fact]
    public void Open_MiniLm_ListsTensorsInHeaderOrderWithMetadata()
    {
        using var file = SafeTensorsFile.Open(MiniLm);
        Assert.Equal(Path.GetFullPath(MiniLm), file.Path);
        Assert.Equal(104, file.Tensors.Count);
        var first = file.Tensors[0];
        Assert.Equal("embeddings.position_ids", first.Name);
        Assert.Equal(DType.I64, first.DType);
        Assert.Equal([1L, 512L], first.Shape);
        Assert.Equal((0L, 4096L), (first.Begin, first.End));
        Assert.Equal("embeddings.LayerNorm.bias", file.Tensors[1].Name);
        Assert.Equal("pooler.dense.weight", file.Tensors[^1].Name);
        Assert.Equal(new Dictionary<string, string> { ["format"] = "pt" }, file.Metadata);
        Assert.True(file.Contains("encoder.layer.5.output.dense.weight"));
        Assert.False(file.Contains("bert.embeddings.word_embeddings.weight"));
        var word = file.GetInfo("embeddings.word_embeddings.weight");
        Assert.Equal([30522L, 384L], word.Shape);
        Assert.Equal(30522L * 384 * 4, word.ByteLength);
    }

    [Fact]
    public void GetInt64_PositionIds_Returns0To511()
    {
        using var file = SafeTensorsFile.Open(MiniLm);
        Assert.Equal(Enumerable.Range(0, 512).Select(i => (long)i).ToArray(), file.GetInt64("embeddings.position_ids"));
    }

    [Theory]
    [InlineData("embeddings.LayerNorm.weight")]
    [InlineData("embeddings.word_embeddings.weight")]
    [InlineData("encoder.layer.3.attention.self.query.weight")]
    [InlineData("pooler.dense.bias")]
    public void GetFloat32_MiniLmF32_MatchesIndependentDecode(string name)
    {
        var (dtype, shape, bytes) = ReadRaw(MiniLm, name);
        using var file = SafeTensorsFile.Open(MiniLm);
        Assert.Equal("F32", dtype);
        Assert.Equal(shape, file.GetInfo(name).Shape);
        Assert.Equal(DecodeFloats(dtype, bytes), file.GetFloat32(name).ToArray());
    }

    [Fact]
    public void GetFloat32_F32_IsZeroCopyOverTheMapping()
    {
        using var file = SafeTensorsFile.Open(MiniLm);
        const string name = "encoder.layer.0.attention.self.key.weight";
        var a = file.GetFloat32(name);
        var b = file.GetFloat32(name);

        Assert.True(MemoryMarshal.TryGetMemoryManager(a, out MemoryManager<float>? manager));
        Assert.Contains("MappedMemoryManager", manager!.GetType().Name);
        Assert.False(MemoryMarshal.TryGetArray(a, out _));
        Assert.True(Unsafe.AreSame(ref MemoryMarshal.GetReference(a.Span), ref MemoryMarshal.GetReference(b.Span)));
        // The floats live exactly where the raw tensor bytes are mapped.
        var raw = file.GetBytes(name);
        Assert.True(Unsafe.AreSame(
            ref Unsafe.As<float, byte>(ref MemoryMarshal.GetReference(a.Span)),
            ref MemoryMarshal.GetReference(raw.Span)));
    }

    [Theory]
    [InlineData("bert.embeddings.LayerNorm.weight")]
    [InlineData("bert.encoder.layer.2.intermediate.dense.weight")]
    [InlineData("classifier.weight")]
    public void GetFloat32_F16Model_MatchesIndependentDecode(string name)
    {
        var (dtype, _, bytes) = ReadRaw(Sst2F16, name);
        using var file = SafeTensorsFile.Open(Sst2F16);
        Assert.Equal("F16", dtype);
        Assert.Equal(DType.F16, file.GetInfo(name).DType);
        Assert.Equal(DecodeFloats(dtype, bytes), file.GetFloat32(name).ToArray());
    }

    [Theory]
    [InlineData("embeddings.LayerNorm.bias")]
    [InlineData("embeddings.word_embeddings.weight")]
    [InlineData("pooler.dense.weight")]
    public void GetFloat32_BF16Model_MatchesIndependentDecode(string name)
    {
        var (dtype, _, bytes) = ReadRaw(RobertaBf16, name);
        using var file = SafeTensorsFile.Open(RobertaBf16);
        Assert.Equal("BF16", dtype);
        Assert.Equal(DecodeFloats(dtype, bytes), file.GetFloat32(name).ToArray());
    }

    [Fact]
    public void GetFloat32_F16CalledTwice_ReturnsSameCachedArray()
    {
        using var file = SafeTensorsFile.Open(Sst2F16);
        Assert.True(MemoryMarshal.TryGetArray(file.GetFloat32("bert.pooler.dense.weight"), out var first));
        Assert.True(MemoryMarshal.TryGetArray(file.GetFloat32("bert.pooler.dense.weight"), out var second));
        Assert.Same(first.Array, second.Array);
    }

    [Fact]
    public void GetFloat32_ConcurrentCalls_ConvertOnceAndAgree()
    {
        using var file = SafeTensorsFile.Open(RobertaBf16);
        var names = file.Tensors.Select(t => t.Name).ToArray();
        var results = new float[]?[64][];
        Parallel.For(0, results.Length, i =>
            results[i] = names.Select(n => MemoryMarshal.TryGetArray(file.GetFloat32(n), out var s) ? s.Array : null).ToArray());
        for (int i = 1; i < results.Length; i++)
            for (int j = 0; j < names.Length; j++)
                Assert.Same(results[0][j], results[i][j]);
    }

    [Fact]
    public void GetFloat32_IntegerTensor_ThrowsNamingFileTensorAndDType()
    {
        using var file = SafeTensorsFile.Open(MiniLm);
        var e = Assert.Throws<SafeTensorsException>(() => file.GetFloat32("embeddings.position_ids"));
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains("'embeddings.position_ids'", e.Message);
        Assert.Contains("I64", e.Message);
    }

    [Fact]
    public void GetInt64_FloatTensor_ThrowsNamingFileTensorAndDType()
    {
        using var file = SafeTensorsFile.Open(Sst2F16);
        var e = Assert.Throws<SafeTensorsException>(() => file.GetInt64("classifier.bias"));
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains("'classifier.bias'", e.Message);
        Assert.Contains("F16", e.Message);
    }

    [Fact]
    public void GetInfo_MissingTensor_ThrowsWithFileAndCloseNames()
    {
        using var file = SafeTensorsFile.Open(MiniLm);
        var e = Assert.Throws<SafeTensorsException>(() => file.GetInfo("embeddings.word_embedding.weight"));
        Assert.Contains("tensor 'embeddings.word_embedding.weight' not found in", e.Message);
        Assert.Contains(Path.GetFullPath(MiniLm), e.Message);
        Assert.Contains("did you mean 'embeddings.word_embeddings.weight'", e.Message);
        Assert.Throws<SafeTensorsException>(() => file.GetFloat32("nope"));
    }

    [Fact]
    public void GetInfo_MissingPrefix_SuggestsPrefixedName()
    {
        using var file = SafeTensorsFile.Open(Sst2F16);
        var e = Assert.Throws<SafeTensorsException>(() => file.GetInfo("pooler.dense.bias"));
        Assert.Contains("'bert.pooler.dense.bias'", e.Message);
    }

    [Fact]
    public void Open_MissingFile_ThrowsSafeTensorsExceptionWithPath()
    {
        string path = Path.Combine(Path.GetTempPath(), "mixlens-no-such-dir-" + Guid.NewGuid().ToString("N"), "absent.safetensors");
        var e = Assert.Throws<SafeTensorsException>(() => SafeTensorsFile.Open(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not found", e.Message);
    }

    [Fact]
    public void Dispose_ThenUseMappedMemory_ThrowsObjectDisposed()
    {
        var file = SafeTensorsFile.Open(MiniLm);
        var memory = file.GetFloat32("pooler.dense.bias");
        file.Dispose();
        file.Dispose();   // idempotent
        Assert.Throws<ObjectDisposedException>(() => memory.Span.Length);
        Assert.Throws<ObjectDisposedException>(() => file.GetFloat32("pooler.dense.weight"));
        Assert.Equal(104, file.Tensors.Count);   // header information stays available
    }

    [Fact]
    public void Open_Fixture_ReadsMetadataAndTensors()
    {
        string path = SharedData.Fixtures("all-MiniLM-L6-v2", "fox.safetensors");
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal("The quick brown fox jumps over the lazy dog.", file.Metadata["text"]);
        Assert.Equal("", file.Metadata["text_pair"]);
        var alti = file.GetInfo("analysis.alti");
        Assert.Equal([6L, 12L, 12L], alti.Shape);
        var (_, _, bytes) = ReadRaw(path, "analysis.alti");
        Assert.Equal(DecodeFloats("F32", bytes), file.GetFloat32("analysis.alti").ToArray());
    }
}
