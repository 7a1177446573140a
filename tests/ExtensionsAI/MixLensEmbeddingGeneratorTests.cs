using System.Collections;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.SafeTensors;
using MixLens.Extensions.AI;
using MixLens.Tests.Cli;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.ExtensionsAI;

/// <summary><see cref="MixLensEmbeddingGenerator"/> against the <c>embed</c> command's output, and its
/// Microsoft.Extensions.AI contract: batching, cancellation between batches, options, metadata, GetService, Dispose.</summary>
public class MixLensEmbeddingGeneratorTests
{
    const string MiniLm = "all-MiniLM-L6-v2";
    /// <summary>The tolerance of the embed command's tests (EmbedCommandTests).</summary>
    static readonly Tolerance EmbeddingTolerance = new(1e-5, 0);

    static string[] FixtureTexts() =>
        ModelFixtures.Load(MiniLm).Cases.Where(c => c.TextPair is null && !c.Text.Contains('\n')).Select(c => c.Text).ToArray();

    [Fact]
    public async Task GenerateAsync_FixtureTexts_EqualEmbedCommandOutputExactly()
    {
        // texts of different lengths in one batch, the 512-token case truncated: the same code path as `embed`
        var texts = FixtureTexts();
        var expected = EmbedCommand(MiniLm, texts, truncate: true);

        using var generator = MixLensEmbeddingGenerator.Load(CliHarness.Model(MiniLm), new() { Truncate = true });
        var embeddings = await generator.GenerateAsync(texts);

        Assert.Equal(texts.Length, embeddings.Count);
        for (int k = 0; k < texts.Length; k++)
        {
            Assert.Equal(384, embeddings[k].Dimensions);
            double diff = Compare.MaxAbsDiff(expected[k], embeddings[k].Vector.Span);
            Assert.True(diff == 0, $"text {k}: max |diff| {diff:G3} against `mixlens embed`");
        }
    }

    [Fact]
    public async Task GenerateAsync_FoxCase_MatchesFixtureSentenceEmbedding()
    {
        var fixtures = ModelFixtures.Load(MiniLm);
        var c = fixtures.Case("fox");
        using var generator = MixLensEmbeddingGenerator.Load(CliHarness.Model(MiniLm));
        var embedding = await generator.GenerateVectorAsync(c.Text);
        using var expected = SafeTensorsFile.Open(SharedData.Fixtures(MiniLm, c.File));
        Compare.AllClose("fox embedding", expected.GetFloat32("sentence_embedding").Span, embedding.Span, [embedding.Length], EmbeddingTolerance);
        double norm = Math.Sqrt(embedding.ToArray().Sum(v => (double)v * v));
        Assert.True(Math.Abs(norm - 1) < 1e-5, $"norm {norm}: all-MiniLM-L6-v2 has a Normalize module");
    }

    [Fact]
    public async Task GenerateAsync_ModelWithoutPoolingFiles_EqualsEmbedCommandMeanPooling()
    {
        string[] texts = ["hello world", "the capital of France is Paris", "x"];
        var expected = EmbedCommand("bert-mlm-random", texts, truncate: false);
        using var model = EncoderModel.Load(CliHarness.Model("bert-mlm-random"));
        using var generator = new MixLensEmbeddingGenerator(model);
        var embeddings = await generator.GenerateAsync(texts);
        for (int k = 0; k < texts.Length; k++)
        {
            double diff = Compare.MaxAbsDiff(expected[k], embeddings[k].Vector.Span);
            Assert.True(diff == 0, $"text {k}: max |diff| {diff:G3} against `mixlens embed`");
        }
    }

    [Fact]
    public async Task GenerateAsync_SmallBatches_MatchOneBatchAndKeepOrder()
    {
        var texts = FixtureTexts();
        using var model = EncoderModel.Load(CliHarness.Model(MiniLm));
        using var whole = new MixLensEmbeddingGenerator(model, new() { Truncate = true });
        using var byTwo = new MixLensEmbeddingGenerator(model, new() { Truncate = true, BatchSize = 2 });
        var a = await whole.GenerateAsync(texts);
        var b = await byTwo.GenerateAsync(texts);
        Assert.Equal(a.Count, b.Count);
        for (int k = 0; k < a.Count; k++)
            Compare.AllClose($"text {k} (batch 2 vs {texts.Length})", a[k].Vector.Span, b[k].Vector.Span, [a[k].Dimensions], EmbeddingTolerance);
        Assert.Equal(a.Usage!.InputTokenCount, b.Usage!.InputTokenCount);
    }

    [Fact]
    public async Task GenerateAsync_Usage_CountsTokensWithSpecialTokens()
    {
        using var generator = MixLensEmbeddingGenerator.Load(CliHarness.Model(MiniLm));
        string[] texts = ["A dog sleeps in the sun.", "hi"];
        var embeddings = await generator.GenerateAsync(texts);
        long expected = texts.Sum(t => generator.Model.Tokenize(t).Length);
        Assert.Equal(2 + 7 + 3, expected); // [CLS] a dog sleeps in the sun . [SEP] and [CLS] hi [SEP]
        Assert.Equal(expected, embeddings.Usage!.InputTokenCount);
        Assert.All(embeddings, e => Assert.Equal(MiniLm, e.ModelId));
        Assert.All(embeddings, e => Assert.NotNull(e.CreatedAt));
    }

    [Fact]
    public async Task GenerateAsync_NoTexts_ReturnsNoEmbeddings()
    {
        using var generator = MixLensEmbeddingGenerator.Load(CliHarness.Model("random-bert-tiniest"));
        var embeddings = await generator.GenerateAsync([]);
        Assert.Empty(embeddings);
        Assert.Equal(0, embeddings.Usage!.InputTokenCount);
    }

    [Fact]
    public async Task GenerateAsync_CancelledDuringFirstBatch_StopsBeforeTheNext()
    {
        using var generator = MixLensEmbeddingGenerator.Load(CliHarness.Model("random-bert-tiniest"), new() { BatchSize = 2 });
        using var cancellation = new CancellationTokenSource();
        // Reading the second text (still in the first batch) cancels; the check before the second batch must stop.
        var texts = new WatchedTexts(["a", "b", "c", "d"], onRead: k => { if (k == 1) cancellation.Cancel(); });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => generator.GenerateAsync(texts, cancellationToken: cancellation.Token));
        Assert.Equal([0, 1], texts.Read);
    }

    [Fact]
    public async Task GenerateAsync_AlreadyCancelled_ThrowsBeforeAnyWork()
    {
        using var generator = MixLensEmbeddingGenerator.Load(CliHarness.Model("random-bert-tiniest"));
        var texts = new WatchedTexts(["a"], onRead: _ => { });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => generator.GenerateAsync(texts, cancellationToken: new CancellationToken(true)));
        Assert.Empty(texts.Read);
    }

    [Fact]
    public async Task GenerateAsync_OverLongTextWithoutTruncate_FailsNamingItsIndex()
    {
        using var generator = MixLensEmbeddingGenerator.Load(CliHarness.Model("random-bert-tiniest"));
        string longText = string.Join(' ', Enumerable.Repeat("word", 600));
        var e = await Assert.ThrowsAsync<EncoderInputException>(() => generator.GenerateAsync(["short", longText]));
        Assert.StartsWith("values[1]: the input is 602 tokens long, over the model's limit of 512", e.Message);
    }

    [Fact]
    public async Task GenerateAsync_NullText_FailsNamingItsIndex()
    {
        using var generator = MixLensEmbeddingGenerator.Load(CliHarness.Model("random-bert-tiniest"));
        var e = await Assert.ThrowsAsync<ArgumentNullException>(() => generator.GenerateAsync(["a", null!]));
        Assert.Contains("values[1] is null", e.Message);
    }

    [Fact]
    public async Task GenerateAsync_OptionsForAnotherModelOrSize_AreRefused()
    {
        using var generator = MixLensEmbeddingGenerator.Load(CliHarness.Model(MiniLm));
        var dimensions = await Assert.ThrowsAsync<NotSupportedException>(() =>
            generator.GenerateAsync(["a"], new EmbeddingGenerationOptions { Dimensions = 128 }));
        Assert.Contains("384 dimensions, not 128", dimensions.Message);
        var model = await Assert.ThrowsAsync<NotSupportedException>(() =>
            generator.GenerateAsync(["a"], new EmbeddingGenerationOptions { ModelId = "text-embedding-3-small" }));
        Assert.Contains($"'{MiniLm}', not 'text-embedding-3-small'", model.Message);
        // the model's own values are accepted
        var same = await generator.GenerateAsync(["a"], new EmbeddingGenerationOptions { Dimensions = 384, ModelId = MiniLm });
        Assert.Equal(384, Assert.Single(same).Dimensions);
    }

    [Fact]
    public void Constructor_BatchSizeZero_Throws()
    {
        using var model = EncoderModel.Load(CliHarness.Model("random-bert-tiniest"));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new MixLensEmbeddingGenerator(model, new() { BatchSize = 0 }));
        Assert.Contains("batch size must be at least 1", e.Message);
    }

    [Fact]
    public void Metadata_DescribesTheModel()
    {
        using IEmbeddingGenerator<string, Embedding<float>> generator = MixLensEmbeddingGenerator.Load(CliHarness.Model(MiniLm));
        var metadata = generator.GetService<EmbeddingGeneratorMetadata>();
        Assert.NotNull(metadata);
        Assert.Equal("mixlens", metadata.ProviderName);
        Assert.Equal(MiniLm, metadata.DefaultModelId);
        Assert.Equal(384, metadata.DefaultModelDimensions);
        Assert.Equal(new Uri(Path.GetFullPath(CliHarness.Model(MiniLm))), metadata.ProviderUri);
    }

    [Fact]
    public void GetService_KnownTypes_ReturnThemAndOthersNull()
    {
        using var generator = MixLensEmbeddingGenerator.Load(CliHarness.Model("random-bert-tiniest"));
        Assert.Same(generator, generator.GetService(typeof(IEmbeddingGenerator<string, Embedding<float>>)));
        Assert.Same(generator, generator.GetService(typeof(MixLensEmbeddingGenerator)));
        Assert.Same(generator.Model, generator.GetService(typeof(EncoderModel)));
        Assert.Same(generator.Metadata, generator.GetService(typeof(EmbeddingGeneratorMetadata)));
        Assert.Null(generator.GetService(typeof(string)));
        Assert.Null(generator.GetService(typeof(EncoderModel), serviceKey: "other"));
        Assert.Throws<ArgumentNullException>(() => generator.GetService(null!));
    }

    [Fact]
    public async Task Dispose_LoadedGenerator_RefusesFurtherWorkAndIsIdempotent()
    {
        var generator = MixLensEmbeddingGenerator.Load(CliHarness.Model("random-bert-tiniest"));
        generator.Dispose();
        generator.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => generator.GenerateAsync(["a"]));
    }

    [Fact]
    public async Task Dispose_GeneratorOverCallersModel_LeavesTheModelUsable()
    {
        using var model = EncoderModel.Load(CliHarness.Model("random-bert-tiniest"));
        var generator = new MixLensEmbeddingGenerator(model);
        var before = await generator.GenerateAsync(["hello"]);
        generator.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => generator.GenerateAsync(["hello"]));
        var after = model.Embed([model.Tokenize("hello")]);
        Assert.Equal(before[0].Vector.ToArray(), after[0]);
    }

    /// <summary><c>mixlens embed --input</c> on <paramref name="texts"/>, one per line: the embeddings it prints.</summary>
    static float[][] EmbedCommand(string model, string[] texts, bool truncate)
    {
        using var temp = new TempFolder();
        string input = temp.File("texts.txt");
        File.WriteAllText(input, string.Join("\n", texts), new UTF8Encoding(false));
        string[] args = ["embed", "--model", CliHarness.Model(model), "--input", input, .. truncate ? new[] { "--truncate" } : []];
        return CliHarness.RunOk(args).StdoutLines.Select(l =>
        {
            using var doc = JsonDocument.Parse(l);
            return doc.RootElement.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        }).ToArray();
    }

    /// <summary>A list that reports which of its texts were read, in order.</summary>
    sealed class WatchedTexts(string[] texts, Action<int> onRead) : IReadOnlyList<string>
    {
        public List<int> Read { get; } = [];
        public int Count => texts.Length;
        public string this[int index]
        {
            get { Read.Add(index); onRead(index); return texts[index]; }
        }
        public IEnumerator<string> GetEnumerator()
        {
            for (int k = 0; k < texts.Length; k++) yield return this[k];
        }
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
