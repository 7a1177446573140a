using MixLens.Engine.Model;
using MixLens.Engine.SafeTensors;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Model;

/// <summary>config.json parsing and weight resolution, including the errors for bad input.</summary>
public sealed class ConfigAndWeightsTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("mixlens-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string WriteConfig(string json)
    {
        string path = Path.Combine(_dir, "config.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Load_AllMiniLmConfig_ReadsEveryField()
    {
        var c = EncoderConfig.Load(Path.Combine(SharedData.Models("all-MiniLM-L6-v2"), "config.json"));
        Assert.Equal((384, 6, 12, 1536, 512, 2, 30522), (c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize, c.MaxPositionEmbeddings, c.TypeVocabSize, c.VocabSize));
        Assert.Equal(Activation.Gelu, c.HiddenAct);
        Assert.Equal(1e-12f, c.LayerNormEps);
        Assert.Equal(32, c.HeadDim);
    }

    [Fact]
    public void Load_ClassifierConfig_ReadsLabels()
    {
        var c = EncoderConfig.Load(Path.Combine(SharedData.Models("minilm-l6-sst2"), "config.json"));
        Assert.Equal(["negative", "positive"], c.Id2Label);
    }

    [Theory]
    [InlineData("gelu", Activation.Gelu)]
    [InlineData("gelu_new", Activation.GeluTanh)]
    [InlineData("gelu_pytorch_tanh", Activation.GeluTanh)]
    [InlineData("relu", Activation.Relu)]
    public void Load_HiddenAct_MapsToActivation(string name, Activation expected)
    {
        var c = EncoderConfig.Load(WriteConfig($$"""{"model_type":"bert","hidden_act":"{{name}}","hidden_size":8,"num_attention_heads":2}"""));
        Assert.Equal(expected, c.HiddenAct);
    }

    [Fact]
    public void Load_UnsupportedModelType_ListsSupportedTypes()
    {
        var e = Assert.Throws<ModelFormatException>(() => EncoderConfig.Load(WriteConfig("""{"model_type":"gpt2"}""")));
        Assert.Contains("unsupported model_type \"gpt2\"", e.Message);
        Assert.Contains("supported model types: bert", e.Message);
        Assert.Contains("config.json", e.Message);
    }

    [Fact]
    public void Load_MissingModelType_SaysSo()
    {
        var e = Assert.Throws<ModelFormatException>(() => EncoderConfig.Load(WriteConfig("""{"hidden_size":8}""")));
        Assert.Contains("missing \"model_type\"", e.Message);
    }

    [Fact]
    public void Load_InvalidJson_NamesFile()
    {
        var e = Assert.Throws<ModelFormatException>(() => EncoderConfig.Load(WriteConfig("""{"model_type": "bert", """)));
        Assert.Contains("config.json: invalid JSON", e.Message);
    }

    [Fact]
    public void Load_MissingFile_NamesPath()
    {
        var e = Assert.Throws<ModelFormatException>(() => EncoderConfig.Load(Path.Combine(_dir, "nope", "config.json")));
        Assert.Contains("config.json not found", e.Message);
    }

    [Fact]
    public void Load_UnknownActivation_ListsSupported()
    {
        var e = Assert.Throws<ModelFormatException>(() => EncoderConfig.Load(WriteConfig("""{"model_type":"bert","hidden_act":"swish"}""")));
        Assert.Contains("unsupported hidden_act \"swish\"", e.Message);
        Assert.Contains("gelu_pytorch_tanh", e.Message);
    }

    [Fact]
    public void Load_HeadsNotDividingHidden_Fails()
    {
        var e = Assert.Throws<ModelFormatException>(() => EncoderConfig.Load(WriteConfig("""{"model_type":"bert","hidden_size":10,"num_attention_heads":3}""")));
        Assert.Contains("hidden_size 10 is not divisible by num_attention_heads 3", e.Message);
    }

    [Fact]
    public void Load_WrongFieldType_NamesField()
    {
        var e = Assert.Throws<ModelFormatException>(() => EncoderConfig.Load(WriteConfig("""{"model_type":"bert","hidden_size":"big"}""")));
        Assert.Contains("\"hidden_size\" must be an integer", e.Message);
    }

    [Fact]
    public void Load_NegativeLayers_Fails()
    {
        var e = Assert.Throws<ModelFormatException>(() => EncoderConfig.Load(WriteConfig("""{"model_type":"bert","num_hidden_layers":-1}""")));
        Assert.Contains("\"num_hidden_layers\" must be a positive integer", e.Message);
    }

    /// <summary>random-bert-tiniest's tensors, renamed by <paramref name="rename"/> and optionally dropped or reshaped.</summary>
    string WriteTiniestVariant(Func<string, string?> rename, Func<string, long[], long[]>? reshape = null)
    {
        using var source = SafeTensorsFile.Open(Path.Combine(SharedData.Models("random-bert-tiniest"), "model.safetensors"));
        var tensors = new List<TensorToWrite>();
        foreach (var info in source.Tensors)
        {
            string? name = rename(info.Name);
            if (name is null) continue;
            var data = source.GetFloat32(info.Name).ToArray();
            var shape = reshape?.Invoke(info.Name, info.Shape) ?? info.Shape;
            if (shape.Aggregate(1L, (a, b) => a * b) != data.Length) data = new float[shape.Aggregate(1L, (a, b) => a * b)];
            tensors.Add(TensorToWrite.Float32(name, data, shape));
        }
        string path = Path.Combine(_dir, "model.safetensors");
        SafeTensorsWriter.Write(path, tensors);
        return path;
    }

    static EncoderConfig TiniestConfig() => EncoderConfig.Load(Path.Combine(SharedData.Models("random-bert-tiniest"), "config.json"));

    [Fact]
    public void Load_UnprefixedGammaBetaNames_GiveTheSameForward()
    {
        string path = WriteTiniestVariant(n => n.StartsWith("bert.") ? n[5..].Replace("LayerNorm.weight", "LayerNorm.gamma").Replace("LayerNorm.bias", "LayerNorm.beta") : n);
        using var file = SafeTensorsFile.Open(path);
        var config = TiniestConfig();
        var weights = BertWeights.Load(file, config);
        Assert.Equal("", weights.Prefix);
        var input = new EncoderInput([101, 7592, 102], [0, 0, 0]);
        var (renamed, _) = new BertEncoder(config, weights).Forward(input);
        var (original, _) = ModelFixtures.Encoder("random-bert-tiniest").Forward(input);
        Assert.Equal(original.Data, renamed.Data);
    }

    [Fact]
    public void Load_MissingWeight_NamesTensorAndShape()
    {
        string path = WriteTiniestVariant(n => n.Contains("layer.0.attention.self.key.bias") ? null : n);
        using var file = SafeTensorsFile.Open(path);
        var e = Assert.Throws<ModelFormatException>(() => BertWeights.Load(file, TiniestConfig()));
        Assert.Contains("missing weight 'bert.encoder.layer.0.attention.self.key.bias'", e.Message);
        Assert.Contains("expected shape [4]", e.Message);
    }

    [Fact]
    public void Load_MisShapedWeight_GivesExpectedAndActualShape()
    {
        string path = WriteTiniestVariant(n => n, (n, s) => n.EndsWith("intermediate.dense.weight") ? [4, 8] : s);
        using var file = SafeTensorsFile.Open(path);
        var e = Assert.Throws<ModelFormatException>(() => BertWeights.Load(file, TiniestConfig()));
        Assert.Contains("'bert.encoder.layer.0.intermediate.dense.weight' has shape [4, 8], expected [8, 4]", e.Message);
    }

    [Fact]
    public void Load_NoEncoderWeights_SaysWhatWasExpected()
    {
        string path = WriteTiniestVariant(n => n.Contains("word_embeddings") ? null : n);
        using var file = SafeTensorsFile.Open(path);
        var e = Assert.Throws<ModelFormatException>(() => BertWeights.Load(file, TiniestConfig()));
        Assert.Contains("no encoder weights found", e.Message);
        Assert.Contains("embeddings.word_embeddings.weight", e.Message);
    }

    [Fact]
    public void Forward_TooLongOrOutOfRangeInput_FailsWithLimit()
    {
        var encoder = ModelFixtures.Encoder("random-bert-tiniest");
        var tooLong = Enumerable.Repeat(1000, 513).ToArray();
        var e = Assert.Throws<EncoderInputException>(() => encoder.Forward(new EncoderInput(tooLong, new int[513])));
        Assert.Contains("513 tokens, more than the model's limit of 512", e.Message);
        e = Assert.Throws<EncoderInputException>(() => encoder.Forward(new EncoderInput([101, 40000, 102], [0, 0, 0])));
        Assert.Contains("input id 40000 at position 1 is outside the vocabulary 0..30521", e.Message);
        e = Assert.Throws<EncoderInputException>(() => encoder.Forward(new EncoderInput([101, 102], [0, 2])));
        Assert.Contains("token type id 2 at position 1", e.Message);
        e = Assert.Throws<EncoderInputException>(() => encoder.Forward(new EncoderInput([], [])));
        Assert.Contains("has no tokens", e.Message);
    }
}
