using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.SafeTensors;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Model;

/// <summary>config.json of each family, position ids, and the family-specific parts of weight loading.</summary>
public sealed class FamilyConfigTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("mixlens-family-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static EncoderConfig Shared(string model) => EncoderConfig.Load(Path.Combine(SharedData.Models(model), "config.json"));

    string WriteConfig(string json)
    {
        string path = Path.Combine(_dir, "config.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Load_RobertaConfig_PositionsAfterPaddingAndLimitOf512()
    {
        var c = Shared("roberta-random");
        Assert.Equal(ModelFamily.Roberta, c.Family);
        Assert.Equal(PositionScheme.AfterPadding, c.PositionScheme);
        Assert.Equal((1, 514, 512, 1, 1e-5f), (c.PadTokenId, c.MaxPositionEmbeddings, c.MaxSequenceLength, c.TypeVocabSize, c.LayerNormEps));
        Assert.Equal(32, c.EmbeddingSize);
    }

    [Fact]
    public void Load_DistilBertConfig_ReadsItsOwnFieldNames()
    {
        var c = Shared("distilbert-random");
        Assert.Equal(ModelFamily.DistilBert, c.Family);
        Assert.Equal((32, 2, 4, 64, 512, 0, 1e-12f), (c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize,
            c.MaxPositionEmbeddings, c.TypeVocabSize, c.LayerNormEps));
        Assert.Equal(Activation.Gelu, c.HiddenAct);
        Assert.Equal(PositionScheme.FromZero, c.PositionScheme);
        Assert.Equal(512, c.MaxSequenceLength);
    }

    [Fact]
    public void Load_ElectraConfig_EmbeddingSizeDiffersFromHidden()
    {
        var c = Shared("electra-random");
        Assert.Equal(ModelFamily.Electra, c.Family);
        Assert.Equal((16, 32), (c.EmbeddingSize, c.HiddenSize));
    }

    [Theory]
    [InlineData("xlm-roberta", ModelFamily.Roberta)]
    [InlineData("camembert", ModelFamily.Roberta)]
    [InlineData("roberta", ModelFamily.Roberta)]
    [InlineData("bert", ModelFamily.Bert)]
    public void Load_ModelType_MapsToFamily(string modelType, ModelFamily family)
    {
        var c = EncoderConfig.Load(WriteConfig($$"""{"model_type":"{{modelType}}","hidden_size":8,"num_attention_heads":2}"""));
        Assert.Equal(family, c.Family);
    }

    [Fact]
    public void Load_UnsupportedModelType_ListsEveryFamily()
    {
        var e = Assert.Throws<ModelFormatException>(() => EncoderConfig.Load(WriteConfig("""{"model_type":"deberta-v2"}""")));
        Assert.Contains("unsupported model_type \"deberta-v2\"; supported model types: bert, roberta, xlm-roberta, camembert, distilbert, electra", e.Message);
    }

    [Fact]
    public void Load_DistilBertBadActivation_NamesItsField()
    {
        var e = Assert.Throws<ModelFormatException>(() => EncoderConfig.Load(WriteConfig("""{"model_type":"distilbert","activation":"swish"}""")));
        Assert.Contains("unsupported activation \"swish\"", e.Message);
        e = Assert.Throws<ModelFormatException>(() => EncoderConfig.Load(WriteConfig("""{"model_type":"distilbert","dim":10,"n_heads":3}""")));
        Assert.Contains("dim 10 is not divisible by n_heads 3", e.Message);
    }

    [Fact]
    public void Load_RobertaWithNoRoomAfterPadding_Fails()
    {
        var e = Assert.Throws<ModelFormatException>(() =>
            EncoderConfig.Load(WriteConfig("""{"model_type":"roberta","pad_token_id":1,"max_position_embeddings":2,"hidden_size":8,"num_attention_heads":2}""")));
        Assert.Contains("leaves no position after pad_token_id 1", e.Message);
    }

    [Fact]
    public void PositionIds_AfterPadding_FollowsCreatePositionIdsFromInputIds()
    {
        // HF: mask = ids != pad; cumsum(mask) * mask + pad
        Assert.Equal(new[] { 2, 3, 1, 4, 1 }, PositionIds.Of(PositionScheme.AfterPadding, [0, 5, 1, 7, 1], paddingIdx: 1));
        Assert.Equal(new[] { 0, 1, 2 }, PositionIds.Of(PositionScheme.FromZero, [0, 5, 1], paddingIdx: 1));
    }

    [Fact]
    public void Forward_RobertaInputOverLimit_FailsWith512()
    {
        var encoder = ModelFixtures.Encoder("roberta-random");
        var ids = Enumerable.Repeat(100, 513).ToArray();
        var e = Assert.Throws<EncoderInputException>(() => encoder.Forward(new EncoderInput(ids, new int[513])));
        Assert.Contains("513 tokens, more than the model's limit of 512 (max_position_embeddings 514 less pad_token_id + 1)", e.Message);
        var (hidden, _) = encoder.Forward(new EncoderInput(ids[..512], new int[512]));
        Assert.Equal(new[] { 512, 32 }, hidden.Shape);
    }

    [Fact]
    public void Tokenize_RobertaOverLongText_FailsWithLimitOrTruncatesTo512()
    {
        using var model = EncoderModel.Load(SharedData.Models("roberta-random"));
        string text = string.Join(' ', Enumerable.Repeat("word", 600));
        var e = Assert.Throws<EncoderInputException>(() => model.Tokenize(text));
        Assert.Contains("over the model's limit of 512 tokens", e.Message);
        Assert.Equal(512, model.Tokenize(text, truncate: true).Length);
    }

    [Fact]
    public void Forward_DistilBert_IgnoresTokenTypeIds()
    {
        var encoder = ModelFixtures.Encoder("distilbert-random");
        int[] ids = [101, 2073, 2003, 102, 2048, 102];
        var (a, _) = encoder.Forward(new EncoderInput(ids, [0, 0, 0, 0, 1, 1]));
        var (b, _) = encoder.Forward(new EncoderInput(ids, new int[6]));
        Assert.Equal(a.Data, b.Data);
        Assert.True(encoder.Weights.Embeddings.TokenType.IsEmpty);
    }

    [Fact]
    public void Load_DistilBertSinusoidalWithoutTable_UsesTheFixedSinusoid()
    {
        Assert.Equal(new[] { 0f, 1f, 0f, 1f }, BertWeights.SinusoidalPositions(1, 4));
        var table = BertWeights.SinusoidalPositions(3, 4);
        Assert.Equal((float)Math.Sin(2.0), table[2 * 4 + 0]);
        Assert.Equal((float)Math.Cos(2.0 / 100), table[2 * 4 + 3]); // 10000^(2·1/4) = 100

        // distilbert-random without its position table and with sinusoidal_pos_embds: loads the sinusoid.
        using var source = SafeTensorsFile.Open(Path.Combine(SharedData.Models("distilbert-random"), "model.safetensors"));
        string path = Path.Combine(_dir, "model.safetensors");
        SafeTensorsWriter.Write(path, source.Tensors.Where(t => !t.Name.Contains("position_embeddings"))
            .Select(t => TensorToWrite.Float32(t.Name, source.GetFloat32(t.Name).ToArray(), t.Shape)));
        using var file = SafeTensorsFile.Open(path);
        var config = Shared("distilbert-random") with { SinusoidalPositionEmbeddings = true };
        var weights = BertWeights.Load(file, config);
        Assert.Equal(BertWeights.SinusoidalPositions(512, 32), weights.Embeddings.Position.ToArray());
        var e = Assert.Throws<ModelFormatException>(() => BertWeights.Load(file, Shared("distilbert-random")));
        Assert.Contains("missing weight 'embeddings.position_embeddings.weight'", e.Message);
    }

    [Fact]
    public void Load_ElectraWithoutProjection_FailsNamingIt()
    {
        using var source = SafeTensorsFile.Open(Path.Combine(SharedData.Models("electra-random"), "model.safetensors"));
        string path = Path.Combine(_dir, "model.safetensors");
        SafeTensorsWriter.Write(path, source.Tensors.Where(t => !t.Name.StartsWith("embeddings_project", StringComparison.Ordinal))
            .Select(t => TensorToWrite.Float32("electra." + t.Name, source.GetFloat32(t.Name).ToArray(), t.Shape)));
        using var file = SafeTensorsFile.Open(path);
        var e = Assert.Throws<ModelFormatException>(() => BertWeights.Load(file, Shared("electra-random")));
        Assert.Contains("missing weight 'electra.embeddings_project.weight' (expected shape [32, 16])", e.Message);
    }

    [Fact]
    public void Load_CheckpointOfAnotherFamily_SaysWhichNamesWereExpected()
    {
        using var file = SafeTensorsFile.Open(Path.Combine(SharedData.Models("bert-mlm-random"), "model.safetensors"));
        var e = Assert.Throws<ModelFormatException>(() => BertWeights.Load(file, Shared("distilbert-random")));
        Assert.Contains("no encoder weights found", e.Message);
        Assert.Contains("'distilbert.'", e.Message);
        Assert.Contains("DistilBERT", e.Message);
    }

    [Fact]
    public void Load_BertCheckpointUnderDistilBertConfig_NamesDistilBertLayerWeights()
    {
        // Same embedding names, different layer names: the first layer weight DistilBERT needs is named.
        using var file = SafeTensorsFile.Open(Path.Combine(SharedData.Models("all-MiniLM-L6-v2"), "model.safetensors"));
        var config = Shared("distilbert-random") with { HiddenSize = 384, VocabSize = 30522, NumAttentionHeads = 12, IntermediateSize = 1536 };
        var e = Assert.Throws<ModelFormatException>(() => BertWeights.Load(file, config));
        Assert.Contains("missing weight 'transformer.layer.0.attention.q_lin.weight'", e.Message);
    }
}
